import { EngineError } from '../../core/engine-error';
import type { SelectorDef } from '../project/types';
import { ancestors, descendants, type ModelGraph } from './build-graph';
import type { ModelNode, ResourceType } from './types';

/**
 * dbt node selection over models: space-separated arguments are a union, commas inside one
 * argument an intersection; each atom is `[@][n]+method:value[+][n]` with methods name
 * (default; globs and `package.name` allowed), `tag:`, `path:`, `package:`, `fqn:`,
 * `config.<key>:`, `state:modified`, `selector:`, `resource_type:`.
 */
export interface SelectOptions {
  select?: string[];
  exclude?: string[];
  selectors?: SelectorDef[];
  /** For state:modified: fingerprints of the previous run. */
  previousFingerprints?: Map<string, string>;
  /** Which kinds of node the command runs (default: models only, the daemon's `transform`). */
  resourceTypes?: ResourceType[];
  /** dbt's --indirect-selection: eager (default) adds the tests of any selected node. */
  indirectSelection?: 'eager' | 'cautious' | 'buildable' | 'empty';
  /** Called for each --select criterion that matches no node (dbt warns and goes on). */
  onNoMatch?: (criterion: string) => void;
}

function glob(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/** dbt's fqn rule: literal parts must match in order; from the first wildcard part on, fnmatch the rest. */
function fqnMatch(fqn: string[], selector: string): boolean {
  const flat = fqn.flatMap((p) => p.split('.'));
  const parts = selector.split('.');
  if (flat.length < parts.length) return false;
  for (let i = 0; i < parts.length; i++) {
    if (/[*?[\]]/.test(parts[i]!)) return glob(parts.slice(i).join('.')).test(flat.slice(i).join('.'));
    if (flat[i] !== parts[i]) return false;
  }
  return true;
}

function configValue(node: ModelNode, key: string): unknown {
  let v: unknown = node.config;
  for (const part of key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

function matchesValue(actual: unknown, wanted: string): boolean {
  if (Array.isArray(actual)) return actual.some((a) => matchesValue(a, wanted));
  if (actual === undefined || actual === null) return false;
  return glob(wanted).test(String(actual));
}

function matchAtom(node: ModelNode, method: string, value: string, o: SelectOptions): boolean {
  switch (method) {
    case '':
    case 'fqn': {
      if (method === '' && (value.includes('/') || value.endsWith('.sql') || value.endsWith('.csv')))
        return matchAtom(node, 'path', value, o);
      if (node.resourceType === 'source') return false;
      if (glob(value).test(node.name)) return true;
      const fqn = [node.packageName, ...node.fqn];
      // dbt matches the fqn with and without the package name (`staging.*`, `my_pkg.staging.*`).
      return fqnMatch(fqn, value) || fqnMatch(fqn.slice(1), value);
    }
    case 'source': {
      if (node.resourceType !== 'source' || !node.sourceKey) return false;
      const [src, table] = node.sourceKey.split('.') as [string, string];
      const parts = value.split('.');
      const cands =
        parts.length === 1
          ? [[src]]
          : parts.length === 2
            ? [
                [src, table],
                [node.packageName, src],
              ]
            : [[node.packageName, src, table]];
      return cands.some((c) => c.length === parts.length && c.every((x, i) => glob(parts[i]!).test(x)));
    }
    case 'test_type': {
      const k = node.test?.kind;
      if (!k) return false;
      return value === k || (value === 'data' && k !== 'unit') || (value === 'schema' && k === 'generic');
    }
    case 'test_name':
      return node.test?.testName !== null && node.test?.testName !== undefined && glob(value).test(node.test.testName);
    case 'unique_id':
      return node.uniqueId === value;
    case 'tag':
      return node.tags.some((t) => glob(value).test(t));
    case 'path': {
      const v = value.replace(/^\.\//, '').replace(/\/+$/, '');
      return node.file === v || node.file.startsWith(`${v}/`) || glob(v).test(node.file);
    }
    case 'package':
      return glob(value).test(node.packageName);
    case 'resource_type':
      return (node.resourceType ?? 'model') === value;
    case 'state': {
      const prev = o.previousFingerprints ?? new Map<string, string>();
      if (value === 'new') return !prev.has(node.uniqueId);
      if (value.startsWith('modified')) return prev.get(node.uniqueId) !== node.fingerprint;
      if (value === 'unmodified') return prev.get(node.uniqueId) === node.fingerprint;
      return false;
    }
    default:
      if (method.startsWith('config.')) return matchesValue(configValue(node, method.slice(7)), value);
      throw new EngineError(
        'INVALID_ARGUMENT',
        `Unknown selection method "${method}:". Use a model name, tag:, path:, package:, source:, resource_type:, test_type:, test_name:, config.<key>:, state:modified or selector:.`,
        { details: { method } },
      );
  }
}

function selectAtom(graph: ModelGraph, atom: string, o: SelectOptions): Set<string> {
  const m = /^(@)?(\d*\+)?([^+]+?)(\+\d*)?$/.exec(atom.trim());
  if (!m)
    throw new EngineError('INVALID_ARGUMENT', `Cannot read the selector "${atom}".`, { details: { selector: atom } });
  const [, at, up, body, down] = m;
  const colon = body!.indexOf(':');
  const method = colon >= 0 ? body!.slice(0, colon) : '';
  const value = colon >= 0 ? body!.slice(colon + 1) : body!;
  let base: Set<string>;
  if (method === 'selector') base = selectByName(graph, value, o);
  else base = new Set([...graph.nodes.values()].filter((n) => matchAtom(n, method, value, o)).map((n) => n.uniqueId));
  const out = new Set(base);
  const depth = (s: string | undefined): number => (s && s.replace('+', '') ? Number(s.replace('+', '')) : Infinity);
  for (const id of base) {
    if (up) for (const a of ancestors(graph, id, depth(up))) out.add(a);
    if (down || at) for (const d of descendants(graph, id, depth(down))) out.add(d);
  }
  if (at) for (const id of [...out]) if (!base.has(id)) for (const a of ancestors(graph, id)) out.add(a);
  return out;
}

function selectArg(graph: ModelGraph, arg: string, o: SelectOptions): Set<string> {
  const parts = arg.split(',').filter(Boolean);
  let acc: Set<string> | null = null;
  for (const p of parts) {
    const s = selectAtom(graph, p, o);
    acc = acc === null ? s : new Set<string>([...(acc as Set<string>)].filter((x) => s.has(x)));
  }
  return acc ?? new Set();
}

function selectDefinition(graph: ModelGraph, def: unknown, o: SelectOptions): Set<string> {
  if (typeof def === 'string') return selectArg(graph, def, o);
  if (!def || typeof def !== 'object') return new Set();
  const d = def as Record<string, unknown>;
  if (Array.isArray(d.union)) {
    const out = new Set<string>();
    const excl = new Set<string>();
    for (const item of d.union) {
      if (item && typeof item === 'object' && Array.isArray((item as Record<string, unknown>).exclude)) {
        for (const e of (item as { exclude: unknown[] }).exclude)
          for (const x of selectDefinition(graph, e, o)) excl.add(x);
      } else for (const x of selectDefinition(graph, item, o)) out.add(x);
    }
    return new Set([...out].filter((x) => !excl.has(x)));
  }
  if (Array.isArray(d.intersection)) {
    let acc: Set<string> | null = null;
    for (const item of d.intersection) {
      const s = selectDefinition(graph, item, o);
      acc = acc === null ? s : new Set<string>([...(acc as Set<string>)].filter((x) => s.has(x)));
    }
    return acc ?? new Set();
  }
  if (typeof d.method === 'string') {
    const value = String(d.value ?? '');
    let atom = d.method === 'fqn' ? value : `${d.method}:${value}`;
    if (d.parents === true) atom = `${d.parents_depth ? d.parents_depth : ''}+${atom}`;
    if (d.children === true) atom = `${atom}+${d.children_depth ? d.children_depth : ''}`;
    if (d.childrens_parents === true) atom = `@${atom}`;
    let out = selectAtom(graph, atom, o);
    if (d.exclude) {
      const ex = selectDefinition(graph, { union: Array.isArray(d.exclude) ? d.exclude : [d.exclude] }, o);
      out = new Set([...out].filter((x) => !ex.has(x)));
    }
    return out;
  }
  // `{tag: base}` shorthand
  const keys = Object.keys(d);
  if (keys.length === 1) return selectAtom(graph, `${keys[0]}:${String(d[keys[0]!])}`, o);
  return new Set();
}

function selectByName(graph: ModelGraph, name: string, o: SelectOptions): Set<string> {
  const def = o.selectors?.find((s) => s.name === name);
  if (!def) {
    const known = (o.selectors ?? []).map((s) => s.name).join(', ') || 'none';
    throw new EngineError('INVALID_ARGUMENT', `No selector named "${name}" in selectors.yml (known: ${known}).`, {
      details: { selector: name },
    });
  }
  return selectDefinition(graph, def.definition, o);
}

/**
 * The selected node ids (in graph order). A selector name alone also works (cht-sync's
 * DBT_SELECTOR). Tests of selected nodes are added as dbt's eager indirect selection does.
 */
export function selectModels(graph: ModelGraph, o: SelectOptions): string[] {
  let selected: Set<string>;
  const args = (o.select ?? []).flatMap((s) => s.split(/\s+/)).filter(Boolean);
  if (args.length) {
    selected = new Set();
    for (const a of args) {
      const isSelectorName =
        !a.includes(':') &&
        o.selectors?.some((s) => s.name === a) &&
        !graph.nodes.has(a) &&
        ![...graph.nodes.values()].some((n) => n.name === a);
      const hit = isSelectorName ? selectByName(graph, a, o) : selectArg(graph, a, o);
      if (!hit.size) o.onNoMatch?.(a);
      for (const x of hit) selected.add(x);
    }
  } else {
    const def = o.selectors?.find((s) => s.isDefault);
    selected = def ? selectDefinition(graph, def.definition, o) : new Set(graph.nodes.keys());
  }
  const excluded = new Set<string>();
  for (const a of (o.exclude ?? []).flatMap((s) => s.split(/\s+/)).filter(Boolean))
    for (const x of selectArg(graph, a, o)) excluded.add(x);
  for (const x of excluded) selected.delete(x);
  const mode = o.indirectSelection ?? 'eager';
  if (mode !== 'empty') {
    for (const n of graph.nodes.values()) {
      if (
        (n.resourceType !== 'test' && n.resourceType !== 'unit_test') ||
        selected.has(n.uniqueId) ||
        excluded.has(n.uniqueId) ||
        !n.dependsOn.length
      )
        continue;
      const inSel = n.dependsOn.filter((p) => selected.has(p));
      if (mode === 'eager' ? inSel.length > 0 : inSel.length === n.dependsOn.length) selected.add(n.uniqueId);
    }
  }
  const types = new Set<ResourceType>(o.resourceTypes ?? ['model']);
  for (const id of [...selected]) {
    const n = graph.nodes.get(id);
    // Disabled nodes never run; sources are never run.
    if (!n || n.config.enabled === false || !types.has(n.resourceType ?? 'model')) selected.delete(id);
  }
  return graph.order.filter((id) => selected.has(id));
}
