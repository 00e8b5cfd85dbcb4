import type { Hook } from '../materialize/types';

/** pre_hook / post_hook config (string, list, or {sql, transaction}) → hooks. */
export function parseHooks(value: unknown): Hook[] {
  const list = value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
  const out: Hook[] = [];
  for (const v of list) {
    if (typeof v === 'string') out.push({ sql: v, transaction: true });
    else if (v && typeof v === 'object' && typeof (v as { sql?: unknown }).sql === 'string') {
      out.push({
        sql: (v as { sql: string }).sql,
        transaction: (v as { transaction?: unknown }).transaction !== false,
      });
    }
  }
  return out;
}
