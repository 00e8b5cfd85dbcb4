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
export function resolveRef(nodes: Map<string, ModelNode>, from: { packageName: string }, ref: { packageName: string | null; name: string }): ModelNode | null {
  if (ref.packageName) return nodes.get(`model.${ref.packageName}.${ref.name}`) ?? null;
  const own = nodes.get(`model.${from.packageName}.${ref.name}`);
  if (own) return own;
  for (const n of nodes.values()) if (n.name === ref.name) return n;
  return null;
}

export function buildGraph(models: ModelNode[]): ModelGraph {
  const nodes = new Map(models.map((m) => [m.uniqueId, m]));
  const children = new Map<string, Set<string>>(models.map((m) => [m.uniqueId, new Set<string>()]));
  for (const m of models) {
    const parents = new Set<string>();
    for (const r of m.refs) {
      const target = resolveRef(nodes, m, r);
      if (!target) {
        throw new EngineError('MODEL_COMPILE', `Model ${m.name} (${m.file}) refers to ${r.packageName ? `${r.packageName}.` : ''}${r.name}, which is not a model in this project or its packages. Fix the ref() or add the model.`, {
          details: { model: m.name, file: m.file },
        });
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
      throw new EngineError('GRAPH_CYCLE', `Models depend on each other in a cycle: ${cycle.join(' → ')}. Remove one of these ref() calls.`, { details: { cycle } });
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
    for (const f of frontier) for (const p of graph.nodes.get(f)?.dependsOn ?? []) if (!out.has(p)) { out.add(p); next.push(p); }
    frontier = next;
  }
  return out;
}

export function descendants(graph: ModelGraph, id: string, depth = Infinity): Set<string> {
  const out = new Set<string>();
  let frontier = [id];
  for (let d = 0; d < depth && frontier.length; d++) {
    const next: string[] = [];
    for (const f of frontier) for (const c of graph.children.get(f) ?? []) if (!out.has(c)) { out.add(c); next.push(c); }
    frontier = next;
  }
  return out;
}
