import { createHash } from 'node:crypto';
import type { ModelGraph } from '../graph/build-graph';

/**
 * A model's fingerprint: its parse-time SQL (stable: no database values such as watermarks),
 * the configs that shape its table, its contract, and its parents' fingerprints — so a change
 * anywhere upstream marks the descendants as changed too.
 */
export function computeFingerprints(graph: ModelGraph): void {
  for (const id of graph.order) {
    const n = graph.nodes.get(id)!;
    const { tags: _tags, meta: _meta, docs: _docs, ...shaping } = n.config;
    const h = createHash('sha256');
    h.update(n.parsedSql);
    h.update('\0');
    h.update(stableJson(shaping));
    h.update('\0');
    h.update(JSON.stringify(n.columns.map((c) => [c.name, c.dataType, c.constraints])));
    h.update(JSON.stringify(n.constraints));
    for (const p of n.dependsOn) h.update(`\0${graph.nodes.get(p)?.fingerprint ?? p}`);
    n.fingerprint = h.digest('hex').slice(0, 32);
  }
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}
