import { quoteIdent, type Relation } from '../context/relation';
import { foreignKeysReferencing, relationType, type ReferencingForeignKey } from './catalog';
import { assertColumnsEquivalent, contractedCreateTableAs } from './contract';
import { sqlHeader } from './configs';
import { createIndexSql, parseIndexes } from './indexes';
import { queryError, type QueryOutcome } from './pg-session';
import type { Hook, MaterializeInput, MaterializeOutput } from './types';

/** Shared steps of the strategies: statements with error context, hooks, transactions, swaps. */
export async function exec(i: MaterializeInput, out: MaterializeOutput, sql: string): Promise<QueryOutcome> {
  out.statements.push(sql);
  try {
    return await i.session.script(sql);
  } catch (error) {
    throw queryError(error, {
      model: i.model,
      file: i.file,
      sql,
      compiled: i.sql,
      ...(i.rawSql !== undefined ? { raw: i.rawSql } : {}),
    });
  }
}

export async function runHooks(
  i: MaterializeInput,
  out: MaterializeOutput,
  hooks: Hook[],
  inTransaction: boolean,
): Promise<void> {
  for (const h of hooks) {
    if (h.transaction !== inTransaction) continue;
    const sql = (await i.render(h.sql)).trim();
    if (sql) await exec(i, out, sql);
  }
}

export async function inTransaction<T>(
  i: MaterializeInput,
  out: MaterializeOutput,
  body: () => Promise<T>,
): Promise<T> {
  await runHooks(i, out, i.preHooks, false);
  await i.session.query('begin');
  try {
    await runHooks(i, out, i.preHooks, true);
    const result = await body();
    await runHooks(i, out, i.postHooks, true);
    await i.session.query('commit');
    return result;
  } catch (error) {
    await i.session.query('rollback').catch(() => undefined);
    throw error;
  }
}

export function dropSql(r: Relation): string {
  const kind = r.type === 'view' ? 'view' : r.type === 'materialized_view' ? 'materialized view' : 'table';
  return `drop ${kind} if exists ${r.render()} cascade`;
}

export function renameSql(from: Relation, toIdentifier: string): string {
  const kind = from.type === 'view' ? 'view' : from.type === 'materialized_view' ? 'materialized view' : 'table';
  return `alter ${kind} ${from.render()} rename to ${quoteIdent(toIdentifier)}`;
}

/** `create table … as (sql)` or the contracted DDL + insert, dbt-postgres style. */
export async function createTableAs(i: MaterializeInput, relation: Relation, temporary: boolean): Promise<string> {
  const unlogged = i.config.unlogged === true;
  // dbt checks the contract on every create, temporary ones included.
  if (i.contractEnforced) await assertColumnsEquivalent(i.session, i.sql, i.columns, { model: i.model, file: i.file });
  // sql_header goes first, in the same batch (session settings, temp functions…).
  if (i.contractEnforced && !temporary)
    return (
      sqlHeader(i) + (await contractedCreateTableAs(relation, i.sql, i.columns, i.constraints, i.render, unlogged))
    );
  const rel = temporary ? relation.include({ database: false, schema: false }) : relation;
  return `${sqlHeader(i)}create ${temporary ? 'temporary ' : unlogged ? 'unlogged ' : ''}table ${rel.render()}\n  \n  as\n  (\n  ${i.sql}\n  );`;
}

export async function createIndexes(i: MaterializeInput, out: MaterializeOutput, relation: Relation): Promise<void> {
  for (const index of parseIndexes(i.config)) await exec(i, out, createIndexSql(relation, index));
}

/**
 * Build under `<name>__dbt_tmp`, then rename the old relation to `__dbt_backup`, the new one
 * into place, commit, and drop the backup with cascade — dbt's full-refresh sequence. dbt's
 * cascade silently removes the foreign keys of child tables that referenced the old table, so
 * deletes stop cascading to them; we record those keys first and re-create them on the new
 * table (NOT VALID when old child rows no longer have a parent, which keeps the rows dbt keeps).
 */
export async function buildAndSwap(
  i: MaterializeInput,
  out: MaterializeOutput,
  build: (intermediate: Relation) => Promise<number | null>,
  intermediateType: Relation['type'],
): Promise<number | null> {
  const intermediate = i.target.withIdentifier(`${i.target.identifier}__dbt_tmp`, intermediateType);
  const backup = i.target.withIdentifier(`${i.target.identifier}__dbt_backup`, i.existing?.type ?? 'table');
  // Leftovers of an interrupted run may be of another kind (a view where a table is built now).
  for (const leftover of [intermediate, backup]) {
    const kind = i.target.schema ? await relationType(i.session, i.target.schema, leftover.identifier) : null;
    if (kind) await exec(i, out, dropSql(leftover.withIdentifier(leftover.identifier, kind)));
  }
  let childKeys: ReferencingForeignKey[] = [];
  if (i.existing?.type === 'table' && i.target.schema)
    childKeys = await foreignKeysReferencing(i.session, i.target.schema, i.target.identifier);
  const rows = await inTransaction(i, out, async () => {
    const n = await build(intermediate);
    if (i.existing) await exec(i, out, renameSql(i.existing, backup.identifier));
    await exec(i, out, renameSql(intermediate, i.target.identifier));
    if (intermediateType !== 'view')
      await createIndexes(i, out, i.target.withIdentifier(i.target.identifier, intermediateType));
    return n;
  });
  if (i.existing) await exec(i, out, dropSql(backup));
  await runHooks(i, out, i.postHooks, false);
  for (const fk of childKeys) await restoreForeignKey(i, out, fk);
  return rows;
}

async function restoreForeignKey(
  i: MaterializeInput,
  out: MaterializeOutput,
  fk: ReferencingForeignKey,
): Promise<void> {
  const exists = await i.session.query(
    `select 1 from pg_catalog.pg_constraint where conrelid = to_regclass($1) and conname = $2`,
    [fk.child, fk.name],
  );
  if (exists.rows.length) return;
  const add = `alter table ${fk.child} add constraint ${quoteIdent(fk.name)} ${fk.definition} not valid`;
  try {
    await exec(i, out, add);
  } catch (error) {
    const msg = `After the full refresh of ${i.model}, the foreign key ${fk.name} of ${fk.child} could not be re-created (${(error as Error).message}); deletes in ${i.model} will not cascade to ${fk.child} until it is fully refreshed.`;
    out.warnings.push(msg);
    i.logger.warn(msg);
    return;
  }
  try {
    await i.session.query(`alter table ${fk.child} validate constraint ${quoteIdent(fk.name)}`);
  } catch {
    const msg = `After the full refresh of ${i.model}, ${fk.child} keeps rows whose ${i.model} row no longer exists; its foreign key ${fk.name} was re-created as NOT VALID so deletes cascade again.`;
    out.warnings.push(msg);
    i.logger.warn(msg);
  }
}
