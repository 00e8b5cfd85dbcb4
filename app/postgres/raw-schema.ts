/**
 * The raw layout, cht-sync v2 compatible (column names and types unchanged so CHT Pipeline,
 * cht-watchdog and dashboards run as they are), plus what keeps every (source, _id):
 *   <schema>.<table>            one row per _id — the row of the source with the highest precedence
 *   <schema>.<table>_shadowed   every (source, _id) that lost precedence for its _id
 *   <schema>.<table>_all        view: both, exactly one row per (source, _id)
 *   <schema>.couchdb_progress   seq / pending per source AND raw table (the resume position: source of
 *                               truth); cht-sync v2's columns (seq, pending, updated_at, source) unchanged,
 *                               plus `raw_table`, so two tables fed from one source never share a position
 */
import type pg from 'pg';

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface RawNames {
  table: string;
  shadowed: string;
  all: string;
  progress: string;
  /** Advisory-lock key text for this table (serialises timestamp assignment across writers). */
  lockKey: string;
}

export function rawNames(schema: string, table: string): RawNames {
  const s = quoteIdent(schema);
  return {
    table: `${s}.${quoteIdent(table)}`,
    shadowed: `${s}.${quoteIdent(`${table}_shadowed`)}`,
    all: `${s}.${quoteIdent(`${table}_all`)}`,
    progress: `${s}.${quoteIdent('couchdb_progress')}`,
    lockKey: `cht-sync:${schema}.${table}`,
  };
}

export async function ensureRawSchema(pool: pg.Pool, schema: string, table: string): Promise<void> {
  const n = rawNames(schema, table);
  const client = await pool.connect();
  try {
    await client.query('begin');
    // Two processes creating the same tables at once collide in the catalog: take turns.
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`cht-sync:${schema}:ddl`]);
    await client.query(`create schema if not exists ${quoteIdent(schema)}`);
    await client.query(`create table if not exists ${n.table} (
      saved_timestamp timestamp, _id varchar primary key, _deleted boolean, source varchar, doc jsonb)`);
    // cht-sync's index names for its default table, so an existing cht-sync database is not indexed
    // twice; other table names get their own prefix (index names are per schema, and IF NOT EXISTS
    // would silently skip a second table's index).
    const indexName = (column: string): string => quoteIdent(table === 'couchdb' ? column : `${table}_${column}`);
    for (const column of ['_deleted', 'saved_timestamp', 'source']) {
      await client.query(`create index if not exists ${indexName(column)} on ${n.table} (${column})`);
    }
    await client.query(`create table if not exists ${n.shadowed} (
      saved_timestamp timestamp, _id varchar not null, _deleted boolean, source varchar not null, doc jsonb,
      primary key (source, _id))`);
    await client.query(`create index if not exists ${quoteIdent(`${table}_shadowed_id`)} on ${n.shadowed} (_id)`);
    await client.query(`create table if not exists ${n.progress} (
      seq varchar, pending integer, updated_at timestamptz, source varchar not null, raw_table varchar not null,
      primary key (source, raw_table))`);
    await migrateProgress(client, schema, table);
    await client.query(`create or replace view ${n.all} as
      select saved_timestamp, _id, _deleted, source, doc from ${n.table}
      union all
      select saved_timestamp, _id, _deleted, source, doc from ${n.shadowed}`);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * A couchdb_progress keyed by source alone (cht-sync v2's, or this app's before) gains
 * `raw_table` and the key (source, raw_table). Its rows were written for the table being set up
 * now — the one this configuration (like cht-sync's POSTGRES_TABLE) writes — so they are labelled
 * with it: that table resumes where it was, and any other table starts from the beginning
 * instead of inheriting a position it never reached. The v2 columns keep their names and types,
 * so cht-watchdog's queries read them as before.
 */
async function migrateProgress(client: pg.PoolClient, schema: string, table: string): Promise<void> {
  const progress = `${quoteIdent(schema)}.${quoteIdent('couchdb_progress')}`;
  const columns = await client.query<{ name: string }>(
    `select column_name as name from information_schema.columns where table_schema = $1 and table_name = 'couchdb_progress'`,
    [schema],
  );
  if (columns.rows.some((c) => c.name === 'raw_table')) return;
  await client.query(`alter table ${progress} add column raw_table varchar`);
  await client.query(`update ${progress} set raw_table = $1`, [table]);
  await client.query(`alter table ${progress} alter column raw_table set not null`);
  const key = await client.query<{ name: string }>(
    `select conname as name from pg_constraint where conrelid = to_regclass($1) and contype = 'p'`,
    [`${quoteIdent(schema)}.${quoteIdent('couchdb_progress')}`],
  );
  for (const row of key.rows) await client.query(`alter table ${progress} drop constraint ${quoteIdent(row.name)}`);
  await client.query(`delete from ${progress} where source is null`);
  await client.query(`alter table ${progress} add primary key (source, raw_table)`);
}

/** The resume position of a source in one raw table; PostgreSQL, not SQLite, is the source of truth. */
export async function readProgress(
  pool: pg.Pool | pg.PoolClient,
  schema: string,
  source: string,
  table: string,
): Promise<{ seq: string; pending: number | null } | null> {
  const n = rawNames(schema, table);
  const result = await pool.query<{ seq: string | null; pending: number | null }>(
    `select seq, pending from ${n.progress} where source = $1 and raw_table = $2`,
    [source, table],
  );
  const row = result.rows[0];
  if (!row || row.seq === null) return null;
  return { seq: row.seq, pending: row.pending };
}
