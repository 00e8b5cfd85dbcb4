import { createHash } from 'node:crypto';
import type { ModelGraph } from '../graph/build-graph';

/**
 * A model's fingerprint, in the spirit of dbt's state:modified: its SQL as written, the text
 * of the macros it uses, the configs that shape its table, its contract, and its parents'
 * fingerprints (a change upstream marks the descendants too). Not the rendered SQL: that
 * changes with vars such as batch_size, and a var change must not rebuild every table.
 */
export function computeFingerprints(graph: ModelGraph): void {
  for (const id of graph.order) {
    const n = graph.nodes.get(id)!;
    const { tags: _tags, meta: _meta, docs: _docs, ...shaping } = n.config;
    const h = createHash('sha256');
    h.update(n.rawSql);
    for (const m of n.macroSources) h.update(`\0${m}`);
    h.update('\0');
    h.update(stableJson(shaping));
    h.update('\0');
    h.update(JSON.stringify(n.columns.map((c) => [c.name, c.dataType, c.constraints])));
    h.update(JSON.stringify(n.constraints));
    // Sources are graph nodes only for selection; they never count (fingerprints stored before
    // sources were nodes must still match, or every model reading a source would be rebuilt).
    for (const p of n.dependsOn) {
      const parent = graph.nodes.get(p);
      if (parent?.resourceType === 'source') continue;
      h.update(`\0${parent?.fingerprint ?? p}`);
    }
    n.fingerprint = h.digest('hex').slice(0, 32);
  }
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}
