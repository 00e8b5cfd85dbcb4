import { EngineError } from '../../core/engine-error';
import { quoteIdent, Relation } from '../context/relation';
import { columnsOf, type ColumnInfo } from './catalog';
import { buildAndSwap, createIndexes, createTableAs, exec, inTransaction } from './steps';
import type { MaterializeInput, MaterializeOutput } from './types';

/** `HHMMSSffffff`, dbt-postgres's temp-relation suffix. */
function tmpSuffix(): string {
  const d = new Date();
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const micro = p(d.getUTCMilliseconds(), 3) + p(Math.floor(Math.random() * 1000), 3);
  return `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${micro}`;
}

function uniqueKeys(config: Record<string, unknown>): string[] {
  const k = config.unique_key;
  if (typeof k === 'string' && k) return [k];
  if (Array.isArray(k)) return k.map(String).filter(Boolean);
  return [];
}

type Strategy = 'append' | 'delete+insert' | 'merge';

function strategyOf(i: MaterializeInput, out: MaterializeOutput): Strategy {
  const keys = uniqueKeys(i.config);
  const asked = typeof i.config.incremental_strategy === 'string' ? i.config.incremental_strategy : null;
  if (asked === null) return keys.length ? 'delete+insert' : 'append';
  if (asked === 'merge') {
    if (i.pgVersion >= 150000) return 'merge';
    const msg = `Model ${i.model} asks for incremental_strategy='merge', which needs PostgreSQL 15 or later; using delete+insert instead.`;
    out.warnings.push(msg);
    i.logger.warn(msg);
    return keys.length ? 'delete+insert' : 'append';
  }
  if (asked === 'append' || asked === 'delete+insert') return asked;
  throw new EngineError(
    'MODEL_COMPILE',
    `Model ${i.model} (${i.file}) asks for incremental_strategy='${asked}'; PostgreSQL supports append, delete+insert and merge.`,
    { details: { model: i.model, file: i.file } },
  );
}

function strategySql(
  strategy: Strategy,
  target: Relation,
  source: Relation,
  columns: string[],
  keys: string[],
): string {
  const cols = columns.map(quoteIdent).join(', ');
  const t = target.render();
  const s = source.render();
  if (strategy === 'append')
    return `insert into ${t} (${cols})\n    (\n        select ${cols}\n        from ${s}\n    )\n`;
  if (strategy === 'delete+insert') {
    let del = '';
    if (keys.length === 1) {
      del = `delete from ${t} as DBT_INTERNAL_DEST\n    where (${keys[0]}) in (\n        select distinct ${keys[0]}\n        from ${s} as DBT_INTERNAL_SOURCE\n    );\n\n`;
    } else if (keys.length > 1) {
      del = `delete from ${t}\n    using ${s}\n    where (\n        ${keys.map((k) => `${s}.${k} = ${t}.${k}`).join('\n        and ')}\n    );\n\n`;
    }
    return `${del}insert into ${t} (${cols})\n    (\n        select ${cols}\n        from ${s}\n    )\n`;
  }
  const on = keys.length ? keys.map((k) => `DBT_INTERNAL_SOURCE.${k} = DBT_INTERNAL_DEST.${k}`).join(' and ') : 'FALSE';
  return (
    `merge into ${t} as DBT_INTERNAL_DEST\n    using ${s} as DBT_INTERNAL_SOURCE\n    on (${on})\n` +
    (keys.length
      ? `    when matched then update set\n        ${columns.map((c) => `${quoteIdent(c)} = DBT_INTERNAL_SOURCE.${quoteIdent(c)}`).join(',\n        ')}\n`
      : '') +
    `    when not matched then insert\n        (${cols})\n    values\n        (${columns.map((c) => `DBT_INTERNAL_SOURCE.${quoteIdent(c)}`).join(', ')})\n`
  );
}

/**
 * on_schema_change: compare the new rows' columns (temp table) with the target's and act as
 * dbt does. Returns the columns for the insert list.
 */
async function processSchemaChanges(
  i: MaterializeInput,
  out: MaterializeOutput,
  tmp: Relation,
  targetCols: ColumnInfo[],
): Promise<string[]> {
  const mode = typeof i.config.on_schema_change === 'string' ? i.config.on_schema_change : 'ignore';
  if (mode === 'ignore') return targetCols.map((c) => c.name);
  const sourceCols = await columnsOf(i.session, quoteIdent(tmp.identifier));
  const targetNames = new Set(targetCols.map((c) => c.name));
  const sourceNames = new Set(sourceCols.map((c) => c.name));
  const added = sourceCols.filter((c) => !targetNames.has(c.name));
  const removed = targetCols.filter((c) => !sourceNames.has(c.name));
  const changed = sourceCols.filter((c) => targetCols.some((t) => t.name === c.name && t.dataType !== c.dataType));
  const changedAny = added.length > 0 || removed.length > 0 || changed.length > 0;
  if (!changedAny) return sourceCols.map((c) => c.name);
  if (mode === 'fail') {
    throw new EngineError(
      'MODEL_RUN',
      `Model ${i.model} (${i.file}): the source and target schemas of this incremental model are out of sync (on_schema_change='fail'). New: ${added.map((c) => c.name).join(', ') || 'none'}; removed: ${removed.map((c) => c.name).join(', ') || 'none'}; changed types: ${changed.map((c) => c.name).join(', ') || 'none'}. Run a full refresh or change on_schema_change.`,
      { details: { model: i.model, file: i.file } },
    );
  }
  const t = i.target.render();
  if (mode === 'append_new_columns' || mode === 'sync_all_columns') {
    if (added.length)
      await exec(
        i,
        out,
        `alter table ${t}\n  ${added.map((c) => `add column ${quoteIdent(c.name)} ${c.dataType}`).join(',\n  ')}`,
      );
  }
  if (mode === 'sync_all_columns') {
    if (removed.length)
      await exec(
        i,
        out,
        `alter table ${t}\n  ${removed.map((c) => `drop column ${quoteIdent(c.name)}`).join(',\n  ')}`,
      );
    // As dbt: no explicit cast, so only conversions PostgreSQL assigns implicitly succeed.
    for (const c of changed) {
      const tmpCol = `${c.name}__dbt_alter`;
      await exec(
        i,
        out,
        `alter table ${t} add column ${quoteIdent(tmpCol)} ${c.dataType};\nupdate ${t} set ${quoteIdent(tmpCol)} = ${quoteIdent(c.name)};\nalter table ${t} drop column ${quoteIdent(c.name)} cascade;\nalter table ${t} rename column ${quoteIdent(tmpCol)} to ${quoteIdent(c.name)}`,
      );
    }
  }
  if (mode !== 'append_new_columns' && mode !== 'sync_all_columns') {
    throw new EngineError(
      'MODEL_COMPILE',
      `Model ${i.model} (${i.file}): on_schema_change='${mode}' is not one of ignore, append_new_columns, sync_all_columns, fail.`,
      { details: { model: i.model, file: i.file } },
    );
  }
  return sourceCols.map((c) => c.name);
}

/** `incremental`: first build, full refresh (build-and-swap), or temp table + strategy. */
export async function materializeIncremental(i: MaterializeInput, out: MaterializeOutput): Promise<number | null> {
  const strategy = strategyOf(i, out);
  if (!i.existing) {
    return inTransaction(i, out, async () => {
      const r = await exec(i, out, await createTableAs(i, i.target, false));
      await createIndexes(i, out, i.target);
      return r.rowCount;
    });
  }
  if (i.fullRefresh || i.existing.type !== 'table') {
    return buildAndSwap(
      i,
      out,
      async (intermediate) => (await exec(i, out, await createTableAs(i, intermediate, false))).rowCount,
      'table',
    );
  }
  const tmp = new Relation({ identifier: `${i.target.identifier}__dbt_tmp${tmpSuffix()}`, type: 'table' });
  try {
    return await inTransaction(i, out, async () => {
      await exec(i, out, await createTableAs(i, tmp, true));
      const targetCols = await columnsOf(i.session, i.target.qualified);
      const columns = await processSchemaChanges(i, out, tmp, targetCols);
      const r = await exec(i, out, strategySql(strategy, i.target, tmp, columns, uniqueKeys(i.config)));
      return r.rowCount;
    });
  } finally {
    // Pooled connections outlive the model: do not leave the temp table behind.
    await i.session.query(`drop table if exists ${quoteIdent(tmp.identifier)}`).catch(() => undefined);
  }
}
