import { EngineError } from '../../core/engine-error';
import type { ModelNode } from './types';

export interface ModelGraph {
  nodes: Map<string, ModelNode>;
  /** uniqueId → children uniqueIds */
  children: Map<string, Set<string>>;
  /** Topological order (parents first), ties broken by name for stable runs. */
  order: string[];
}

/** Resolve a ref to a model: `ref('m')` searches the calling package first, then all packages. */
const REFABLE = ['model', 'seed', 'snapshot'] as const;

/** Resolve a ref to a model, seed or snapshot: the calling package first, then all packages. */
export function resolveRef(
  nodes: Map<string, ModelNode>,
  from: { packageName: string },
  ref: { packageName: string | null; name: string },
): ModelNode | null {
  for (const pkg of ref.packageName ? [ref.packageName] : [from.packageName]) {
    for (const t of REFABLE) {
      const hit = nodes.get(`${t}.${pkg}.${ref.name}`);
      if (hit) return hit;
    }
  }
  if (ref.packageName) return null;
  for (const n of nodes.values())
    if (n.name === ref.name && REFABLE.includes((n.resourceType ?? 'model') as (typeof REFABLE)[number])) return n;
  return null;
}

export const sourceNodeId = (packageName: string, source: string, table: string): string =>
  `source.${packageName}.${source}.${table}`;

function kindLabel(n: ModelNode): string {
  const t = n.resourceType ?? 'model';
  return t === 'unit_test' ? 'Unit test' : t[0]!.toUpperCase() + t.slice(1);
}

export function buildGraph(models: ModelNode[]): ModelGraph {
  const nodes = new Map(models.map((m) => [m.uniqueId, m]));
  const children = new Map<string, Set<string>>(models.map((m) => [m.uniqueId, new Set<string>()]));
  const sourceNodes = new Map(models.filter((m) => m.sourceKey).map((m) => [m.sourceKey!, m]));
  for (const m of models) {
    const parents = new Set<string>();
    for (const s of m.sources) {
      const src = sourceNodes.get(`${s.source}.${s.table}`);
      if (src) parents.add(src.uniqueId);
    }
    for (const r of m.refs) {
      const target = resolveRef(nodes, m, r);
      if (!target) {
        throw new EngineError(
          'MODEL_COMPILE',
          `${kindLabel(m)} ${m.name} (${m.file}) refers to ${r.packageName ? `${r.packageName}.` : ''}${r.name}, which is not a model in this project or its packages. Fix the ref() or add the model.`,
          {
            details: { model: m.name, file: m.file },
          },
        );
      }
      if (target.uniqueId !== m.uniqueId) parents.add(target.uniqueId);
    }
    m.dependsOn = [...parents].sort();
    for (const p of parents) children.get(p)!.add(m.uniqueId);
  }
  return { nodes, children, order: topoSort(nodes) };
}

function topoSort(nodes: Map<string, ModelNode>): string[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];
  const stack: string[] = [];
  const visit = (id: string): void => {
    const s = state.get(id);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(id)), id].map((x) => nodes.get(x)?.name ?? x);
      throw new EngineError(
        'GRAPH_CYCLE',
        `Models depend on each other in a cycle: ${cycle.join(' → ')}. Remove one of these ref() calls.`,
        { details: { cycle } },
      );
    }
    state.set(id, 'visiting');
    stack.push(id);
    for (const p of nodes.get(id)!.dependsOn) visit(p);
    stack.pop();
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of [...nodes.keys()].sort()) visit(id);
  return order;
}

export function ancestors(graph: ModelGraph, id: string, depth = Infinity): Set<string> {
  const out = new Set<string>();
  let frontier = [id];
  for (let d = 0; d < depth && frontier.length; d++) {
    const next: string[] = [];
    for (const f of frontier)
      for (const p of graph.nodes.get(f)?.dependsOn ?? [])
        if (!out.has(p)) {
          out.add(p);
          next.push(p);
        }
    frontier = next;
  }
  return out;
}

export function descendants(graph: ModelGraph, id: string, depth = Infinity): Set<string> {
  const out = new Set<string>();
  let frontier = [id];
  for (let d = 0; d < depth && frontier.length; d++) {
    const next: string[] = [];
    for (const f of frontier)
      for (const c of graph.children.get(f) ?? [])
        if (!out.has(c)) {
          out.add(c);
          next.push(c);
        }
    frontier = next;
  }
  return out;
}
