/**
 * Reconciliation: what the raw table holds against what CouchDB holds, without downloading
 * document bodies. Two paged passes per database, neither relying on the two sides sorting ids
 * the same way:
 *
 * 1. server → PostgreSQL: the server's ids and winning revs, a page at a time (`_all_docs`; with a
 *    scope, the scoped `_changes` feed with no bodies), each page looked up in PostgreSQL by `_id`:
 *    no row = **missing**, another rev (or deleted on one side only) = **stale**;
 * 2. PostgreSQL → server: the table's live rows for this source, a page at a time by `_id`, each
 *    page looked up on the server with `POST _all_docs {keys}`: `not_found` = **purged** (CouchDB's
 *    `_purge`, CHT's archiving, `_auto_purge`: they leave no trace in `_changes`); with a scope, a
 *    live doc that the scoped pass did not list = **left the scope**.
 *
 * `fix` re-fetches missing and stale documents (`_all_docs?include_docs=true` by keys, written
 * through the sync's own sink, so they are sanitised and time-stamped as any batch) and marks
 * purged and out-of-scope rows deleted (`_deleted = true`, a new `saved_timestamp` taken under the
 * table's commit-order lock), so incremental models drop them as they drop any deletion.
 */
import type pg from 'pg';
import type { VerifyDatabaseResult, VerifyRunResult } from '../contract/dto';
import { EngineError, toWireError } from '../core/engine-error';
import type { Logger } from '../core/logger';
import type { CouchConnection } from '../couch/couch-client';
import { rawNames } from '../postgres/raw-schema';
import { createPgRawSink } from '../postgres/raw-sink';
import { allDocsByKeys, createCouchJson, type CouchJson } from '../scope/couch-json';
import { resolveScope } from '../scope/resolve-scope';
import { medicDatabaseOf, scopeSelector, type MangoSelector } from '../scope/selector';
import type { ChangeRow } from '../sync/ports';
import { precedenceFor, sourceFor } from '../sync/source-name';
import { outcomeForError } from '../sync/run-database';

export interface VerifyOptions {
  couch: CouchConnection;
  databases: readonly string[];
  pool: pg.Pool;
  schema: string;
  table: string;
  scope?: readonly string[];
  fix: boolean;
  logger: Logger;
  signal?: AbortSignal;
  /** Ids per page on both sides (default 5,000). */
  pageSize?: number;
  onProgress?: (p: { database: string; phase: 'server' | 'postgres' | 'fix'; checked: number }) => void;
}

const SAMPLE = 20;
const FETCH_PAGE = 500;

interface ServerEntry {
  rev: string;
  deleted: boolean;
}

export async function verifyRaw(o: VerifyOptions): Promise<Omit<VerifyRunResult, 'runId'>> {
  const startedAt = new Date().toISOString();
  const signal = o.signal ?? new AbortController().signal;
  const couch = createCouchJson(o.couch);
  const results: VerifyDatabaseResult[] = [];
  let selectors = new Map<string, MangoSelector>();
  try {
    if (o.scope && o.scope.length > 0) {
      const placeIds = [...o.scope];
      for (const database of o.databases) scopeSelector(database, { placeIds, userNames: [] });
      const resolved = await resolveScope(couch, medicDatabaseOf(o.databases), placeIds, signal);
      selectors = new Map(o.databases.map((d) => [d, scopeSelector(d, resolved)]));
    }
    for (const database of o.databases) {
      if (signal.aborted) break;
      results.push(await verifyDatabase(o, couch, database, selectors.get(database) ?? null, signal));
    }
  } catch (error) {
    const wire = signal.aborted
      ? { code: 'CANCELLED' as const, message: 'The check was stopped.', retryable: true }
      : toWireError(error);
    for (const database of o.databases.filter((d) => !results.some((r) => r.database === d))) {
      results.push(emptyResult(database, safeSource(o.couch.url, database), outcomeForError(wire), wire));
    }
  } finally {
    couch.close();
  }
  const outcome =
    results.length > 0 && results.every((r) => r.outcome === 'done')
      ? 'done'
      : results.some((r) => r.outcome === 'done')
        ? 'partial'
        : (results[0]?.outcome ?? 'failed');
  return { outcome, startedAt, finishedAt: new Date().toISOString(), isFix: o.fix, databases: results };
}

function safeSource(url: string, database: string): string {
  try {
    return sourceFor(url, database);
  } catch {
    return database;
  }
}

function emptyResult(
  database: string,
  source: string,
  outcome: VerifyDatabaseResult['outcome'],
  error?: VerifyDatabaseResult['error'],
): VerifyDatabaseResult {
  const r: VerifyDatabaseResult = {
    database,
    source,
    outcome,
    serverDocs: 0,
    rows: 0,
    missing: 0,
    stale: 0,
    purged: 0,
    outOfScope: 0,
    fetched: 0,
    marked: 0,
    samples: { missing: [], stale: [], purged: [], outOfScope: [] },
    seconds: 0,
  };
  if (error) r.error = error;
  return r;
}

async function verifyDatabase(
  o: VerifyOptions,
  couch: CouchJson,
  database: string,
  selector: MangoSelector | null,
  signal: AbortSignal,
): Promise<VerifyDatabaseResult> {
  const started = Date.now();
  const source = sourceFor(o.couch.url, database);
  const result = emptyResult(database, source, 'running');
  const n = rawNames(o.schema, o.table);
  const pageSize = Math.max(10, o.pageSize ?? 5000);
  const toFetch: string[] = [];
  const toMark: string[] = [];
  const note = (kind: keyof VerifyDatabaseResult['samples'], id: string): void => {
    if (result.samples[kind].length < SAMPLE) result.samples[kind].push(id);
  };
  try {
    // 1. server → PostgreSQL.
    const scoped = selector ? new Set<string>() : null;
    const comparePage = async (page: Map<string, ServerEntry>): Promise<void> => {
      if (page.size === 0) return;
      const ids = [...page.keys()];
      const rows = await o.pool.query<{ _id: string; rev: string | null; _deleted: boolean }>(
        `select _id, doc->>'_rev' as rev, _deleted from ${n.all} where source = $1 and _id = any($2::text[])`,
        [source, ids],
      );
      const held = new Map(rows.rows.map((r) => [r._id, r]));
      for (const [id, entry] of page) {
        const row = held.get(id);
        if (!row) {
          // A deletion of something never synced is not missing: nothing would show it.
          if (entry.deleted) continue;
          result.missing += 1;
          note('missing', id);
          toFetch.push(id);
        } else if (row.rev !== entry.rev || row._deleted !== entry.deleted) {
          result.stale += 1;
          note('stale', id);
          toFetch.push(id);
        }
      }
    };
    if (selector && scoped) {
      let since: string | null = null;
      for (;;) {
        const query = new URLSearchParams({ filter: '_selector', limit: String(pageSize) });
        if (since !== null) query.set('since', since);
        const body = await couch.post<{
          results?: { id: string; deleted?: boolean; changes?: { rev: string }[] }[];
          last_seq?: unknown;
        }>(database, `/_changes?${query.toString()}`, { selector }, signal);
        const page = new Map<string, ServerEntry>();
        for (const r of body.results ?? []) {
          scoped.add(r.id);
          page.set(r.id, { rev: r.changes?.[0]?.rev ?? '', deleted: r.deleted === true });
        }
        result.serverDocs += [...page.values()].filter((e) => !e.deleted).length;
        await comparePage(page);
        o.onProgress?.({ database, phase: 'server', checked: scoped.size });
        if ((body.results ?? []).length === 0) break;
        since = typeof body.last_seq === 'string' ? body.last_seq : JSON.stringify(body.last_seq);
      }
    } else {
      let startKey: string | null = null;
      for (;;) {
        const query: URLSearchParams = new URLSearchParams({ limit: String(pageSize + (startKey === null ? 0 : 1)) });
        if (startKey !== null) query.set('startkey', JSON.stringify(startKey));
        const body: { rows?: { id: string; value: { rev: string } }[] } = await couch.get(
          database,
          `/_all_docs?${query.toString()}`,
          signal,
        );
        const rows: { id: string; value: { rev: string } }[] = (body.rows ?? []).filter((r) => r.id !== startKey);
        if (rows.length === 0) break;
        const page = new Map<string, ServerEntry>(rows.map((r) => [r.id, { rev: r.value.rev, deleted: false }]));
        result.serverDocs += page.size;
        await comparePage(page);
        o.onProgress?.({ database, phase: 'server', checked: result.serverDocs });
        startKey = rows[rows.length - 1]!.id;
      }
    }

    // 2. PostgreSQL → server.
    let after = '';
    for (;;) {
      const page = await o.pool.query<{ _id: string; rev: string | null }>(
        `select _id, doc->>'_rev' as rev from ${n.all} where source = $1 and not _deleted and _id > $2 order by _id limit $3`,
        [source, after, pageSize],
      );
      if (page.rows.length === 0) break;
      result.rows += page.rows.length;
      after = page.rows[page.rows.length - 1]!._id;
      const unknown = scoped ? page.rows.filter((r) => !scoped.has(r._id)) : page.rows;
      const server = new Map(
        (
          await allDocsByKeys(
            couch,
            database,
            unknown.map((r) => r._id),
            false,
            signal,
          )
        ).map((r) => [r.key, r]),
      );
      for (const row of unknown) {
        const s = server.get(row._id);
        if (!s || s.error === 'not_found' || (s.error === undefined && !s.value)) {
          result.purged += 1;
          note('purged', row._id);
          toMark.push(row._id);
        } else if (scoped && !s.value?.deleted) {
          result.outOfScope += 1;
          note('outOfScope', row._id);
          toMark.push(row._id);
        } else if (!scoped && s.value?.deleted) {
          result.stale += 1;
          note('stale', row._id);
          toFetch.push(row._id);
        }
      }
      o.onProgress?.({ database, phase: 'postgres', checked: result.rows });
    }

    if (o.fix) {
      result.fetched = await refetch(o, couch, database, source, [...new Set(toFetch)], signal);
      result.marked = await markDeleted(o, source, [...new Set(toMark)]);
      o.onProgress?.({ database, phase: 'fix', checked: result.fetched + result.marked });
    }
    result.outcome = 'done';
  } catch (error) {
    const wire = signal.aborted
      ? { code: 'CANCELLED' as const, message: 'The check was stopped.', retryable: true }
      : toWireError(error);
    result.outcome = outcomeForError(wire);
    result.error = wire;
    o.logger.warn('verify of a database failed', { database, code: wire.code, message: wire.message });
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

/** Missing and stale documents, fetched by id and written through the sync's sink (no checkpoint moves). */
async function refetch(
  o: VerifyOptions,
  couch: CouchJson,
  database: string,
  source: string,
  ids: string[],
  signal: AbortSignal,
): Promise<number> {
  if (ids.length === 0) return 0;
  const sink = createPgRawSink({ pool: o.pool, schema: o.schema, table: o.table, logger: o.logger });
  let written = 0;
  try {
    const precedence = precedenceFor(o.couch.url, [...o.databases]);
    for (let i = 0; i < ids.length; i += FETCH_PAGE) {
      const rows: ChangeRow[] = [];
      for (const r of await allDocsByKeys(couch, database, ids.slice(i, i + FETCH_PAGE), true, signal)) {
        if (r.error || !r.value) continue; // purged since pass 1: nothing to store
        const doc = r.doc ?? null;
        rows.push({
          id: r.key,
          seq: null,
          deleted: r.value.deleted === true,
          doc,
          rev: r.value.rev,
          bytes: doc ? JSON.stringify(doc).length : 0,
        });
      }
      const res = await sink.writeBatch({
        source,
        precedence,
        rows,
        seq: null,
        pending: null,
        isUsersDb: database === '_users',
        forceProgress: false,
      });
      written += res.docs + res.deletes;
      for (const s of res.skipped) o.logger.warn('verify: document skipped', { database, id: s.id, reason: s.reason });
    }
  } finally {
    await sink.close().catch(() => undefined);
  }
  return written;
}

/** Rows whose document is gone from the server (or from the scope): `_deleted = true` with a new timestamp, under the commit-order lock. */
async function markDeleted(o: VerifyOptions, source: string, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const n = rawNames(o.schema, o.table);
  const client = await o.pool.connect();
  let marked = 0;
  try {
    await client.query('begin');
    const { rows } = await client.query<{ at: string }>(
      `select pg_advisory_xact_lock(hashtext($1::text)), (clock_timestamp() at time zone 'utc')::text as at`,
      [n.lockKey],
    );
    const at = rows[0]!.at;
    for (const relation of [n.table, n.shadowed]) {
      const r = await client.query(
        `update ${relation} set _deleted = true, saved_timestamp = $3::timestamp where source = $1 and _id = any($2::text[]) and not _deleted`,
        [source, ids, at],
      );
      marked += r.rowCount ?? 0;
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error instanceof EngineError
      ? error
      : new EngineError(
          'PG_QUERY',
          `Marking ${ids.length} rows of ${source} deleted failed: ${error instanceof Error ? error.message : String(error)}`,
        );
  } finally {
    client.release();
  }
  return marked;
}
