import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';

/**
 * The raw `v1.couchdb` rows the bundled-pipeline tests start from: the 48 shared CHT
 * sample documents, laid out the way the sync writes them (cht-sync v2 columns, source
 * `localhost/<db>`, one row per _id). The expected tables in ./expected were produced by
 * running real dbt on resources/pipeline over exactly these rows, so any change here
 * must regenerate them.
 */

// A copy of the shared research fixture (cht-sample-docs.json + its index), kept with the tests.
const FIXTURE_DIR = path.join(__dirname, 'fixtures');

export interface RawRow {
  _id: string;
  saved_timestamp: string; // 'YYYY-MM-DD HH:MM:SS.ffffff', UTC, no zone (column is timestamp)
  _deleted: boolean;
  source: string;
  doc: Record<string, unknown>;
}

interface IndexEntry {
  index: number;
  db: string;
  _id: string;
}

/** Docs share a saved_timestamp in groups of 8, as one sync batch stamps all its rows alike. */
export const FIXTURE_GROUP = 8;

export function fixtureTimestamp(group: number): string {
  const seconds = String(group).padStart(2, '0');
  return `2026-07-30 10:00:${seconds}.123456`;
}

/** What the sync does to a document before it reaches jsonb (cht-sync's NUL rule). */
function cleanDoc(doc: Record<string, unknown>): Record<string, unknown> {
  const json = JSON.stringify(doc)
    .replace(/(\\+u0000)/g, '')
    .replaceAll('\u0000', '');
  return JSON.parse(json) as Record<string, unknown>;
}

/**
 * The fixture's raw rows. `org.couchdb.user:joyce_chw` exists in `medic` (user-settings)
 * and `_users`; the `medic` one holds the row in `couchdb` (the `_users` one is shadowed).
 */
export function fixtureRawRows(): RawRow[] {
  const docs = JSON.parse(readFileSync(path.join(FIXTURE_DIR, 'cht-sample-docs.json'), 'utf8')) as Record<
    string,
    unknown
  >[];
  const index = JSON.parse(readFileSync(path.join(FIXTURE_DIR, 'cht-sample-docs.index.json'), 'utf8')) as IndexEntry[];
  const rows = new Map<string, RawRow>();
  docs.forEach((doc, i) => {
    const entry = index[i];
    if (!entry) throw new Error(`fixture index has no entry ${i}`);
    const id = String(doc._id);
    if (rows.has(id) && entry.db !== 'medic') return;
    rows.set(id, {
      _id: id,
      saved_timestamp: fixtureTimestamp(Math.floor(i / FIXTURE_GROUP)),
      _deleted: doc._deleted === true,
      source: `localhost/${entry.db}`,
      doc: cleanDoc(doc),
    });
  });
  return [...rows.values()];
}

/** cht-sync v2's raw table (couch2pg/src/setup.js layout), created if missing. */
export async function createRawTable(client: pg.ClientBase | pg.Pool, schema = 'v1', table = 'couchdb'): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS "${schema}"."${table}" (saved_timestamp TIMESTAMP, _id VARCHAR PRIMARY KEY, _deleted BOOLEAN, source VARCHAR, doc JSONB)`,
  );
  await client.query(
    `CREATE INDEX IF NOT EXISTS "${table}_saved_timestamp" ON "${schema}"."${table}" (saved_timestamp)`,
  );
}

/** Upserts rows as the sync does (one row per _id; a newer write replaces the old one). */
export async function upsertRawRows(
  client: pg.ClientBase | pg.Pool,
  rows: RawRow[],
  schema = 'v1',
  table = 'couchdb',
): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO "${schema}"."${table}" (saved_timestamp, _id, _deleted, source, doc)
     SELECT r.saved_timestamp::timestamp, r._id, r._deleted, r.source, r.doc
     FROM jsonb_to_recordset($1::jsonb) AS r(saved_timestamp text, _id text, _deleted boolean, source text, doc jsonb)
     ON CONFLICT (_id) DO UPDATE SET saved_timestamp = EXCLUDED.saved_timestamp, _deleted = EXCLUDED._deleted,
       source = EXCLUDED.source, doc = EXCLUDED.doc`,
    [JSON.stringify(rows)],
  );
}

/** A delete as the sync records it: the body-less stub with _deleted = true. */
export function deleteRow(row: Pick<RawRow, '_id' | 'source'>, savedTimestamp: string): RawRow {
  return {
    _id: row._id,
    source: row.source,
    saved_timestamp: savedTimestamp,
    _deleted: true,
    doc: { _id: row._id, _rev: '9-deleted', _deleted: true },
  };
}
