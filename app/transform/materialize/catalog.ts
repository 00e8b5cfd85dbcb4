import { quoteIdent, Relation, type RelationType } from '../context/relation';
import type { PgSession } from './pg-session';

/** What PostgreSQL says exists: relation kinds, columns, and foreign keys pointing at a table. */
export async function relationType(s: PgSession, schema: string, name: string): Promise<RelationType> {
  const r = await s.query(
    `select c.relkind from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2`,
    [schema, name],
  );
  const kind = r.rows[0]?.relkind as string | undefined;
  if (kind === 'r' || kind === 'p' || kind === 'f') return 'table';
  if (kind === 'v') return 'view';
  if (kind === 'm') return 'materialized_view';
  return null;
}

export async function getRelation(
  s: PgSession,
  database: string,
  schema: string,
  name: string,
): Promise<Relation | null> {
  const type = await relationType(s, schema, name);
  return type ? new Relation({ database, schema, identifier: name, type }) : null;
}

export interface ColumnInfo {
  name: string;
  /** format_type(): e.g. `text`, `timestamp without time zone`, `character varying(20)`. */
  dataType: string;
}

/** Columns in ordinal order; `regclass` is a quoted relation name (temp tables: just the name). */
export async function columnsOf(s: PgSession, regclass: string): Promise<ColumnInfo[]> {
  const r = await s.query(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as data_type
       from pg_catalog.pg_attribute a
      where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [regclass],
  );
  return r.rows.map((x) => ({ name: String(x.name), dataType: String(x.data_type) }));
}

export interface ReferencingForeignKey {
  child: string;
  name: string;
  definition: string;
}

/** Foreign keys of OTHER tables that reference `schema.name` (lost when dbt drops the backup with cascade). */
export async function foreignKeysReferencing(
  s: PgSession,
  schema: string,
  name: string,
): Promise<ReferencingForeignKey[]> {
  const r = await s.query(
    `select quote_ident(cn.nspname) || '.' || quote_ident(cc.relname) as child, con.conname as name, pg_get_constraintdef(con.oid) as definition
       from pg_catalog.pg_constraint con
       join pg_catalog.pg_class pc on pc.oid = con.confrelid
       join pg_catalog.pg_namespace pn on pn.oid = pc.relnamespace
       join pg_catalog.pg_class cc on cc.oid = con.conrelid
       join pg_catalog.pg_namespace cn on cn.oid = cc.relnamespace
      where con.contype = 'f' and pn.nspname = $1 and pc.relname = $2 and con.conrelid <> con.confrelid
      order by 1, 2`,
    [schema, name],
  );
  return r.rows.map((x) => ({ child: String(x.child), name: String(x.name), definition: String(x.definition) }));
}

export async function ensureSchema(s: PgSession, schema: string): Promise<void> {
  // The existence check is cheap; only a missing schema takes cht-sync's DDL lock (the one the raw
  // tables' creation takes), so two processes never both try to create it.
  const exists = await s.query('select 1 from pg_catalog.pg_namespace where nspname = $1', [schema]);
  if (exists.rows.length) return;
  await s.query('select pg_advisory_lock(hashtext($1))', [`cht-sync:${schema}:ddl`]);
  try {
    await s.query(`create schema if not exists ${quoteIdent(schema)}`);
  } finally {
    await s.query('select pg_advisory_unlock(hashtext($1))', [`cht-sync:${schema}:ddl`]);
  }
}

export async function serverVersionNum(s: PgSession): Promise<number> {
  const r = await s.query(`select current_setting('server_version_num')::int as v`);
  return Number(r.rows[0]?.v ?? 0);
}
