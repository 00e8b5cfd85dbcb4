import { createHash } from 'node:crypto';
import type { ConfigMap } from '../project/types';
import type { Relation } from '../context/relation';
import type { IndexConfig } from './types';

export function parseIndexes(config: ConfigMap): IndexConfig[] {
  const raw = config.indexes;
  if (!Array.isArray(raw)) return [];
  const out: IndexConfig[] = [];
  for (const item of raw) {
    if (!item || typeof item !== 'object') continue;
    const r = item as Record<string, unknown>;
    const columns = Array.isArray(r.columns) ? r.columns.map(String) : typeof r.columns === 'string' ? [r.columns] : [];
    if (!columns.length) continue;
    out.push({ columns, unique: r.unique === true, type: typeof r.type === 'string' ? r.type : null });
  }
  return out;
}

/**
 * dbt-postgres's create-index statement. The name is an md5 of the definition, relation and
 * the current time, as dbt does (so two builds never collide on a name).
 */
export function createIndexSql(relation: Relation, index: IndexConfig): string {
  const now = new Date().toISOString();
  const name = createHash('md5')
    .update(`${index.columns.join('_')}_${index.unique}_${index.type}_${relation.render()}_${now}_${Math.random()}`)
    .digest('hex');
  return `create ${index.unique ? 'unique ' : ''}index if not exists\n  "${name}"\n  on ${relation.render()} ${index.type ? `using ${index.type} ` : ''}\n  (${index.columns.join(', ')});`;
}
