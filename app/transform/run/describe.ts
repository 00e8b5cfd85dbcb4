import type { ModelGraph } from '../graph/build-graph';
import type { ModelNode } from '../graph/types';

/** What a test checks, in plain words, for the run history ("orders.id is never empty"). */
export function describeTest(n: ModelNode, graph: ModelGraph): string {
  const t = n.test;
  if (!t) return n.name;
  const target = t.attachedNode ? graph.nodes.get(t.attachedNode) : undefined;
  const what = target ? (target.resourceType === 'source' ? `source ${target.sourceKey}` : target.name) : '';
  const col = t.columnName ? `${what}.${t.columnName.replace(/^"|"$/g, '')}` : what;
  const kw = t.kwargs;
  if (t.kind === 'unit') return `unit test of ${what}: its SQL gives the expected rows for the given inputs`;
  if (t.kind === 'singular') return `${n.file} returns no rows`;
  const refName = (v: unknown): string =>
    typeof v === 'string'
      ? v
          .replace(/^\s*ref\(\s*['"]([^'"]+)['"]\s*\)\s*$/, '$1')
          .replace(/^\s*source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*$/, '$1.$2')
      : String(v);
  switch (`${t.namespace ? `${t.namespace}.` : ''}${t.testName}`) {
    case 'not_null':
      return `${col} is never empty`;
    case 'unique':
      return `${col} has no duplicates`;
    case 'accepted_values':
      return `${col} is one of ${Array.isArray(kw.values) ? kw.values.map(String).join(', ') : '…'}`;
    case 'relationships':
      return `every ${col} exists in ${refName(kw.to)}.${String(kw.field ?? '')}`;
    default:
      return `${t.namespace ? `${t.namespace}.` : ''}${t.testName} on ${col || what}`;
  }
}
