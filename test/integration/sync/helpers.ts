/** Shared by the sync integration tests: fixtures into a CouchDB-protocol server, and PG snapshots. */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { adminHeaders } from '../../support/pouchdb-server';
import type { CheckpointStore } from '../../../app/sync/ports';

export const FIXTURE_DOCS = JSON.parse(readFileSync('/work/shared/fixtures/cht-sample-docs.json', 'utf8')) as Record<
  string,
  unknown
>[];
export const FIXTURE_INDEX = JSON.parse(readFileSync('/work/shared/fixtures/cht-sample-docs.index.json', 'utf8')) as {
  index: number;
  db: string;
  _id: string;
}[];

/** A CheckpointStore in memory: the sync engine's port, as the app store implements it. */
export function memoryCheckpoints(): CheckpointStore & {
  map: Map<string, { seq: string; pending: number | null; updatedAt: string }>;
} {
  const map = new Map<string, { seq: string; pending: number | null; updatedAt: string }>();
  return {
    map,
    get: (source) => map.get(source) ?? null,
    set: (source, seq, pending) => {
      map.set(source, { seq, pending, updatedAt: new Date().toISOString() });
    },
  };
}

export async function couchRequest(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: adminHeaders(),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
}

export async function createDb(baseUrl: string, db: string): Promise<void> {
  const r = await couchRequest(baseUrl, 'PUT', `/${encodeURIComponent(db)}`);
  if (r.status !== 201 && r.status !== 412) throw new Error(`create ${db}: ${r.status} ${JSON.stringify(r.json)}`);
}

/** Store docs exactly as given (revs and tombstones included). */
export async function putDocsAsIs(baseUrl: string, db: string, docs: unknown[]): Promise<void> {
  await createDb(baseUrl, db);
  for (let i = 0; i < docs.length; i += 500) {
    const r = await couchRequest(baseUrl, 'POST', `/${encodeURIComponent(db)}/_bulk_docs`, {
      docs: docs.slice(i, i + 500),
      new_edits: false,
    });
    if (r.status !== 201) throw new Error(`bulk ${db}: ${r.status} ${JSON.stringify(r.json)}`);
  }
}

/** The fixtures carry attachment stubs (as the feed sends them); a server only takes real data. */
function withInlineAttachments(doc: Record<string, unknown>): Record<string, unknown> {
  const attachments = doc._attachments as Record<string, { content_type?: string }> | undefined;
  if (!attachments) return doc;
  const inline: Record<string, { content_type: string; data: string }> = {};
  for (const [name, a] of Object.entries(attachments)) {
    inline[name] = {
      content_type: a.content_type ?? 'application/octet-stream',
      data: Buffer.from(`attachment ${name}`).toString('base64'),
    };
  }
  return { ...doc, _attachments: inline };
}

/** The 48 shared fixture documents, each in its database (with a name prefix for shared servers). */
export async function loadFixtures(baseUrl: string, dbName: (db: string) => string = (db) => db): Promise<string[]> {
  const byDb = new Map<string, unknown[]>();
  for (const entry of FIXTURE_INDEX) {
    const list = byDb.get(entry.db) ?? [];
    list.push(withInlineAttachments(FIXTURE_DOCS[entry.index] as Record<string, unknown>));
    byDb.set(entry.db, list);
  }
  for (const [db, docs] of byDb) await putDocsAsIs(baseUrl, dbName(db), docs);
  return [...byDb.keys()].map(dbName);
}

/** Every (id → {rev, deleted, doc}) the feed of a database holds, read with plain fetch. */
export async function couchFeed(
  baseUrl: string,
  db: string,
): Promise<Map<string, { rev: string; deleted: boolean; doc: Record<string, unknown> }>> {
  const r = await couchRequest(baseUrl, 'GET', `/${encodeURIComponent(db)}/_changes?include_docs=true`);
  const out = new Map<string, { rev: string; deleted: boolean; doc: Record<string, unknown> }>();
  for (const row of (
    r.json as { results: { id: string; deleted?: boolean; changes: { rev: string }[]; doc: Record<string, unknown> }[] }
  ).results) {
    out.set(row.id, { rev: row.changes[0]?.rev ?? '', deleted: row.deleted === true, doc: row.doc });
  }
  return out;
}

export interface RawRow {
  saved_timestamp: string;
  _id: string;
  _deleted: boolean;
  source: string;
  doc: Record<string, unknown>;
}

export async function rawRows(pool: pg.Pool, schema = 'v1', relation = 'couchdb_all'): Promise<RawRow[]> {
  const r = await pool.query<RawRow>(
    `select saved_timestamp::text as saved_timestamp, _id, _deleted, source, doc from "${schema}"."${relation}" order by source, _id`,
  );
  return r.rows;
}

/** PostgreSQL contents must equal CouchDB's: one row per (source, _id) at the same rev. */
export async function assertSameAsCouch(
  pool: pg.Pool,
  couchUrl: string,
  dbs: string[],
  host: string,
  schema = 'v1',
): Promise<void> {
  const rows = await rawRows(pool, schema);
  const pgKeys = new Map(rows.map((r) => [`${r.source}\u0001${r._id}`, r]));
  let expected = 0;
  for (const db of dbs) {
    const feed = await couchFeed(couchUrl, db);
    for (const [id, change] of feed) {
      expected++;
      const row = pgKeys.get(`${host}/${db}\u0001${id}`);
      if (!row) throw new Error(`missing in PostgreSQL: ${db} ${id}`);
      if (row.doc._rev !== change.rev)
        throw new Error(`stale in PostgreSQL: ${db} ${id}: ${String(row.doc._rev)} vs ${change.rev}`);
      if (row._deleted !== change.deleted) throw new Error(`_deleted differs for ${db} ${id}`);
    }
  }
  if (rows.length !== expected) throw new Error(`PostgreSQL has ${rows.length} rows, CouchDB ${expected}`);
}

export function newPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  pool.on('error', () => undefined);
  return pool;
}
