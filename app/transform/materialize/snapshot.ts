import { EngineError } from '../../core/engine-error';
import { quoteIdent } from '../context/relation';
import { columnsOf } from './catalog';
import { exec, inTransaction, runHooks } from './steps';
import type { MaterializeInput, MaterializeOutput } from './types';

/**
 * dbt snapshots (type-2 slowly changing dimensions) with dbt-postgres's SQL: the `timestamp`
 * and `check` strategies, `invalidate_hard_deletes` / `hard_deletes: invalidate`, and dbt's
 * meta columns dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to (renamable through
 * `snapshot_meta_column_names`). The first run creates the table; later runs build a staging
 * table of inserts/updates/deletes and merge it (update dbt_valid_to, insert new versions).
 */
interface SnapshotConfig {
  uniqueKey: string[];
  strategy: 'timestamp' | 'check';
  updatedAt: string | null;
  checkCols: string[] | 'all';
  hardDeletes: 'ignore' | 'invalidate' | 'new_record';
  names: { scdId: string; updatedAt: string; validFrom: string; validTo: string; isDeleted: string };
  validToCurrent: string | null;
}

function readConfig(i: MaterializeInput): SnapshotConfig {
  const c = i.config;
  const where = { model: i.model, file: i.file };
  const fail = (msg: string): never => {
    throw new EngineError('MODEL_COMPILE', `Snapshot ${i.model} (${i.file}): ${msg}`, { details: where });
  };
  const uk = c.unique_key;
  const uniqueKey = Array.isArray(uk)
    ? uk.map(String)
    : typeof uk === 'string' && uk
      ? [uk]
      : fail('needs a unique_key config.');
  const strategy =
    c.strategy === 'timestamp' || c.strategy === 'check'
      ? c.strategy
      : fail(`strategy must be 'timestamp' or 'check' (got ${JSON.stringify(c.strategy ?? null)}).`);
  const updatedAt = typeof c.updated_at === 'string' ? c.updated_at : null;
  if (strategy === 'timestamp' && !updatedAt) fail('the timestamp strategy needs an updated_at config.');
  const cc = c.check_cols;
  const checkCols =
    cc === 'all'
      ? 'all'
      : Array.isArray(cc)
        ? cc.map(String)
        : typeof cc === 'string'
          ? [cc]
          : strategy === 'check'
            ? fail("the check strategy needs check_cols (a list of columns or 'all').")
            : [];
  const hd =
    typeof c.hard_deletes === 'string' ? c.hard_deletes : c.invalidate_hard_deletes === true ? 'invalidate' : 'ignore';
  const meta = (
    c.snapshot_meta_column_names && typeof c.snapshot_meta_column_names === 'object' ? c.snapshot_meta_column_names : {}
  ) as Record<string, unknown>;
  const nm = (k: string, d: string): string => (typeof meta[k] === 'string' ? (meta[k] as string) : d);
  return {
    uniqueKey,
    strategy,
    updatedAt,
    checkCols,
    hardDeletes: hd === 'invalidate' || hd === 'new_record' ? hd : 'ignore',
    names: {
      scdId: nm('dbt_scd_id', 'dbt_scd_id'),
      updatedAt: nm('dbt_updated_at', 'dbt_updated_at'),
      validFrom: nm('dbt_valid_from', 'dbt_valid_from'),
      validTo: nm('dbt_valid_to', 'dbt_valid_to'),
      isDeleted: nm('dbt_is_deleted', 'dbt_is_deleted'),
    },
    validToCurrent: typeof c.dbt_valid_to_current === 'string' ? c.dbt_valid_to_current : null,
  };
}

const NOW = 'now()::timestamp without time zone';

function hashOf(parts: string[]): string {
  return `md5(${parts.map((p) => `coalesce(cast(${p} as varchar ), '')`).join(" || '|' || ")})`;
}

export async function materializeSnapshot(i: MaterializeInput, out: MaterializeOutput): Promise<number | null> {
  const c = readConfig(i);
  const n = c.names;
  const updatedExpr = c.strategy === 'timestamp' ? c.updatedAt! : NOW;
  const keyParts = c.uniqueKey;
  const validToInitial = c.validToCurrent ? c.validToCurrent : `nullif(${updatedExpr}, ${updatedExpr})`;
  const target = i.target;
  if (!i.existing || i.fullRefresh) {
    const build = `create table ${target.render()}\n  as (\n    select *,\n        ${hashOf([...keyParts, updatedExpr])} as ${n.scdId},\n        ${updatedExpr} as ${n.updatedAt},\n        ${updatedExpr} as ${n.validFrom},\n        ${validToInitial} as ${n.validTo}${c.hardDeletes === 'new_record' ? `,\n        'False' as ${n.isDeleted}` : ''}\n    from (\n${i.sql}\n    ) sbq\n  )`;
    const rows = await inTransaction(i, out, async () => {
      if (i.existing) await exec(i, out, `drop table if exists ${i.existing.render()} cascade`);
      return (await exec(i, out, build)).rowCount;
    });
    await runHooks(i, out, i.postHooks, false);
    return rows;
  }

  // The query's columns, for check_cols 'all' and for new columns the target lacks.
  const probe = await i.session
    .query(`select * from (\n${i.sql}\n) as __dbt_sbq where false limit 0`)
    .catch((error: unknown) => {
      throw new EngineError(
        'MODEL_RUN',
        `Snapshot ${i.model} (${i.file}) failed in PostgreSQL: ${(error as Error).message}`,
        { cause: error, details: { model: i.model, file: i.file } },
      );
    });
  const queryCols = probe.fields.map((f) => f.name);
  const checkCols = c.checkCols === 'all' ? queryCols.filter((x) => !keyParts.includes(x)) : c.checkCols;
  const keyJoin =
    keyParts.length === 1
      ? `snapshotted_data.dbt_unique_key = source_data.dbt_unique_key`
      : keyParts
          .map((_, k) => `snapshotted_data.dbt_unique_key_${k + 1} = source_data.dbt_unique_key_${k + 1}`)
          .join(' and ');
  const keyNull = (alias: string): string =>
    keyParts.length === 1 ? `${alias}.dbt_unique_key is null` : `${alias}.dbt_unique_key_1 is null`;
  const keyCols =
    keyParts.length === 1
      ? `${keyParts[0]} as dbt_unique_key`
      : keyParts.map((k, x) => `${k} as dbt_unique_key_${x + 1}`).join(', ');
  const rowChanged =
    c.strategy === 'timestamp'
      ? `(snapshotted_data.${n.validFrom} < source_data.${c.updatedAt})`
      : `(${checkCols.map((col) => `snapshotted_data.${col} != source_data.${col}\n        or\n        (\n          ((snapshotted_data.${col} is null) and not (source_data.${col} is null))\n          or\n          ((not snapshotted_data.${col} is null) and (source_data.${col} is null))\n        )`).join('\n        or\n        ')})`;
  const currentFilter = c.validToCurrent ? `${n.validTo} = ${c.validToCurrent}` : `${n.validTo} is null`;
  const ctes = [
    `snapshot_query as (\n${i.sql}\n)`,
    `snapshotted_data as (select *, ${keyCols} from ${target.render()} where ${currentFilter})`,
    `insertions_source_data as (select *, ${keyCols}, ${updatedExpr} as ${n.updatedAt}, ${updatedExpr} as ${n.validFrom}, ${validToInitial} as ${n.validTo}, ${hashOf([...keyParts, updatedExpr])} as ${n.scdId} from snapshot_query)`,
    `updates_source_data as (select *, ${keyCols}, ${updatedExpr} as ${n.updatedAt}, ${updatedExpr} as ${n.validFrom}, ${updatedExpr} as ${n.validTo} from snapshot_query)`,
    ...(c.hardDeletes !== 'ignore' ? [`deletes_source_data as (select *, ${keyCols} from snapshot_query)`] : []),
    `insertions as (select 'insert' as dbt_change_type, source_data.* from insertions_source_data as source_data left outer join snapshotted_data on ${keyJoin} where ${keyNull('snapshotted_data')} or (${keyParts.length === 1 ? 'snapshotted_data.dbt_unique_key is not null' : 'snapshotted_data.dbt_unique_key_1 is not null'} and (${rowChanged})))`,
    `updates as (select 'update' as dbt_change_type, source_data.*, snapshotted_data.${n.scdId} from updates_source_data as source_data join snapshotted_data on ${keyJoin} where (${rowChanged}))`,
    ...(c.hardDeletes !== 'ignore'
      ? [
          `deletes as (select 'delete' as dbt_change_type, source_data.*, ${NOW} as ${n.validFrom}, ${NOW} as ${n.updatedAt}, ${NOW} as ${n.validTo}, snapshotted_data.${n.scdId} from snapshotted_data left join deletes_source_data as source_data on ${keyJoin} where ${keyNull('source_data')})`,
        ]
      : []),
  ];
  const staging = `with ${ctes.join(',\n')}\nselect * from insertions\nunion all\nselect * from updates${c.hardDeletes !== 'ignore' ? '\nunion all\nselect * from deletes' : ''}`;
  const tmp = `${target.identifier}__dbt_tmp${Date.now()}`;
  const rows = await inTransaction(i, out, async () => {
    await exec(i, out, `create temporary table ${quoteIdent(tmp)} as (\n${staging}\n)`);
    // New columns in the query are added to the snapshot (dbt's create_columns).
    const targetCols = await columnsOf(i.session, target.render());
    const stagingCols = await columnsOf(i.session, quoteIdent(tmp));
    const have = new Set(targetCols.map((x) => x.name));
    for (const col of stagingCols) {
      if (have.has(col.name) || col.name === 'dbt_change_type' || col.name.startsWith('dbt_unique_key')) continue;
      await exec(i, out, `alter table ${target.render()} add column ${quoteIdent(col.name)} ${col.dataType}`);
      targetCols.push(col);
    }
    await exec(
      i,
      out,
      `update ${target.render()}\n    set ${n.validTo} = DBT_INTERNAL_SOURCE.${n.validTo}\n    from ${quoteIdent(tmp)} as DBT_INTERNAL_SOURCE\n    where DBT_INTERNAL_SOURCE.${n.scdId}::text = ${target.render()}.${n.scdId}::text\n      and DBT_INTERNAL_SOURCE.dbt_change_type::text in ('update'::text, 'delete'::text)\n      and ${target.render()}.${currentFilter}`,
    );
    const cols = targetCols.map((x) => quoteIdent(x.name)).join(', ');
    const ins = await exec(
      i,
      out,
      `insert into ${target.render()} (${cols})\n    select ${targetCols.map((x) => `DBT_INTERNAL_SOURCE.${quoteIdent(x.name)}`).join(', ')}\n    from ${quoteIdent(tmp)} as DBT_INTERNAL_SOURCE\n    where DBT_INTERNAL_SOURCE.dbt_change_type::text = 'insert'::text`,
    );
    await exec(i, out, `drop table if exists ${quoteIdent(tmp)}`);
    return ins.rowCount;
  });
  await runHooks(i, out, i.postHooks, false);
  return rows;
}
