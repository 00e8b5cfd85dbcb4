/**
 * The RawSink adapter for PostgreSQL. One batch = one transaction on one persistent connection:
 *   COPY the (de-duplicated) rows into a session temp table → take the table's advisory lock and
 *   the batch timestamp → upsert into <table> / <table>_shadowed by source precedence →
 *   upsert couchdb_progress → COMMIT.
 * Data and position commit together, so a crash at any instant loses nothing and duplicates
 * nothing: the next run resumes from couchdb_progress and a replayed batch is an idempotent upsert.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate } from 'node:timers/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { SkippedDoc } from '../contract/dto';
import type { Logger } from '../core/logger';
import { prepareRow, type PreparedRow } from '../sync/sanitise';
import type { RawSink, SinkBatch, SinkResult } from '../sync/ports';
import { isConnectionLoss, isDocRejection, translatePgError } from './pg-errors';
import { rawNames, readProgress } from './raw-schema';

const STAGE = 'cht_sync_stage';
/** Rows are sanitised in slices of about this much CPU time, yielding to the event loop between them. */
const PREPARE_SLICE_MS = 4;
const NO_RANK = 2147483647;

export interface PgRawSinkOptions {
  pool: pg.Pool;
  schema: string;
  table: string;
  logger: Logger;
  /** Attempts for a batch whose connection was lost (default 6: about 30 s of PostgreSQL downtime). */
  maxConnectionAttempts?: number;
  /** Delay before the first retry, doubled each time (default 500 ms). */
  retryDelayMs?: number;
}

/** COPY text format: backslash (first, so the others' backslashes are not doubled), newline, carriage return and tab are escaped. */
const COPY_ESCAPES = [
  ['\\', '\\\\'],
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
] as const;

function copyEscape(text: string): string {
  let out = text;
  for (const [char, escaped] of COPY_ESCAPES) if (out.includes(char)) out = out.replaceAll(char, escaped);
  return out;
}

function* copyChunks(rows: readonly PreparedRow[]): Generator<string> {
  let buffer = '';
  for (const row of rows) {
    buffer += `${copyEscape(row.id)}\t${row.deleted ? 't' : 'f'}\t${copyEscape(row.json)}\n`;
    if (buffer.length >= 1 << 16) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}

export function createPgRawSink(o: PgRawSinkOptions): RawSink {
  const n = rawNames(o.schema, o.table);
  const maxAttempts = o.maxConnectionAttempts ?? 6;
  const retryDelayMs = o.retryDelayMs ?? 500;
  let client: pg.PoolClient | null = null;
  let isBroken = false;

  const onClientError = (error: Error): void => {
    // A backend terminated while the client sat between batches: drop it, reconnect next batch.
    isBroken = true;
    o.logger.warn('PostgreSQL connection of the sync stream failed', { error: error.message });
  };

  const drop = (error?: unknown): void => {
    if (!client) return;
    client.removeListener('error', onClientError);
    client.release(error instanceof Error ? error : true);
    client = null;
  };

  const connection = async (): Promise<pg.PoolClient> => {
    if (client && isBroken) drop(new Error('broken'));
    if (client) return client;
    const c = await o.pool.connect();
    isBroken = false;
    c.on('error', onClientError);
    try {
      // This session's commits return without waiting for the WAL flush (the lock of a batch is
      // held through its COMMIT, so a slow disk would serialise every database on it). Durable
      // enough by construction: a batch's rows and position commit together, so a PostgreSQL
      // crash can only take back the last few batches whole, and the next run reads them again.
      await c.query('set synchronous_commit = off');
      await c.query(
        `create temp table if not exists ${STAGE} (_id varchar, _deleted boolean, doc jsonb) on commit delete rows`,
      );
    } catch (error) {
      c.removeListener('error', onClientError);
      c.release(true);
      throw error;
    }
    client = c;
    return c;
  };

  const copyRows = async (c: pg.PoolClient, rows: readonly PreparedRow[]): Promise<void> => {
    await pipeline(Readable.from(copyChunks(rows)), c.query(copyFrom(`copy ${STAGE} (_id, _deleted, doc) from stdin`)));
  };

  /** Rows PostgreSQL refused (as `error`) as a whole: skip the one, or load each half on its own. */
  const splitRefused = async (
    c: pg.PoolClient,
    rows: readonly PreparedRow[],
    error: unknown,
    skipped: SkippedDoc[],
  ): Promise<void> => {
    if (rows.length === 1) {
      const row = rows[0] as PreparedRow;
      skipped.push({
        id: row.id,
        reason: `PostgreSQL rejected the document: ${error instanceof Error ? error.message : String(error)}`,
      });
      return;
    }
    const half = Math.ceil(rows.length / 2);
    await loadBisecting(c, rows.slice(0, half), skipped);
    await loadBisecting(c, rows.slice(half), skipped);
  };

  /** Load rows under a savepoint; when PostgreSQL refuses some, find them by halving and skip them. */
  const loadBisecting = async (
    c: pg.PoolClient,
    rows: readonly PreparedRow[],
    skipped: SkippedDoc[],
  ): Promise<void> => {
    if (rows.length === 0) return;
    await c.query('savepoint cht_load');
    try {
      await copyRows(c, rows);
      await c.query('release savepoint cht_load');
    } catch (error) {
      if (!isDocRejection(error)) throw error;
      await c.query('rollback to savepoint cht_load');
      await c.query('release savepoint cht_load');
      await splitRefused(c, rows, error, skipped);
    }
  };

  // The raw table's name as an SQL literal: each table keeps its own position for a source.
  const rawTableLiteral = `'${o.table.replace(/'/g, "''")}'`;
  /** The position of a source in this raw table, from SQL expressions for its three values. */
  const progressSql = (seq: string, pending: string, source: string): string =>
    `insert into ${n.progress} (seq, pending, updated_at, source, raw_table) values (${seq}, ${pending}, now(), ${source}, ${rawTableLiteral})
     on conflict (source, raw_table) do update set seq = excluded.seq, pending = excluded.pending, updated_at = excluded.updated_at`;

  /** The staged rows ($1 = source) whose _id is free or already this source's, stamped `at`. */
  const upsertOwnSql = (at: string, from: string): string =>
    `insert into ${n.table} as c (saved_timestamp, _id, _deleted, source, doc)
     select ${at}, b._id, b._deleted, $1::text, b.doc from ${from}
     on conflict (_id) do update set saved_timestamp = excluded.saved_timestamp, _deleted = excluded._deleted,
       source = excluded.source, doc = excluded.doc
     where c.source is not distinct from excluded.source`;

  const writeOnce = async (
    batch: SinkBatch,
    prepared: readonly PreparedRow[],
    skippedBefore: readonly SkippedDoc[],
  ): Promise<SinkResult> => {
    const c = await connection();
    const skipped = [...skippedBefore];
    try {
      await c.query('begin');
      // The usual case: one COPY, and PostgreSQL takes every document. When it refuses one,
      // the batch starts again and the refused documents are found by halving, under savepoints.
      try {
        if (prepared.length > 0) await copyRows(c, prepared);
      } catch (error) {
        if (!isDocRejection(error)) throw error;
        await c.query('rollback');
        await c.query('begin');
        await splitRefused(c, prepared, error, skipped);
      }
      const skippedIds = new Set(skipped.map((s) => s.id));
      const written = prepared.filter((r) => !skippedIds.has(r.id));
      const isProgressDue = batch.seq !== null && (prepared.length > 0 || batch.forceProgress);
      if (written.length > 0) {
        // Serialise timestamp assignment + upsert + commit across every writer of this table, so
        // saved_timestamp grows in commit order (incremental models never miss a late commit).
        // The lock is taken inside the statement that upserts (and records the position), so
        // it is held for two round trips — this statement and COMMIT — however busy this
        // process is. Rows whose _id is free or already this source's are the whole job in
        // the usual single-source batch (one index probe per row; an _id held by another
        // source is left alone by the WHERE).
        const first = await c.query<{ at: string; n: number }>(
          `with l as materialized (select pg_advisory_xact_lock(hashtext($2::text)) as locked, clock_timestamp() at time zone 'utc' as at),
           own as (${upsertOwnSql('l.at', `${STAGE} b cross join l`)} returning 1)
           ${isProgressDue ? `, progress as (${progressSql('$3::text', '$4::integer', '$1::text')})` : ''}
           select l.at::text as at, (select count(*) from own)::int as n from l`,
          isProgressDue ? [batch.source, n.lockKey, batch.seq, batch.pending] : [batch.source, n.lockKey],
        );
        const { at, n: ownCount } = first.rows[0] as { at: string; n: number };
        const params = [batch.source, batch.precedence as string[], at];
        const upsertOwn = (): Promise<pg.QueryResult> =>
          c.query(upsertOwnSql('$3::timestamp', `${STAGE} b where $2::text[] is not null`), params);
        if (ownCount < written.length) {
          // The temp table has no statistics; without them the joins below hash the whole table.
          await c.query(`analyze ${STAGE}`);
          const rank = (expr: string): string => `coalesce(array_position($2::text[], ${expr}), ${NO_RANK})`;
          // Rows held by a configured source this one outranks move to the shadow table. A holder
          // outside this run's configuration (another instance, another process) keeps its row:
          // first seen wins, so two processes never take a row from each other back and forth.
          const moved = await c.query(
            `with moved as (
               delete from ${n.table} c using ${STAGE} b
               where c._id = b._id and c.source is distinct from $1::text and array_position($2::text[], c.source::text) > ${rank('$1::text')} and $3::timestamp is not null
               returning c.saved_timestamp, c._id, c._deleted, c.source, c.doc)
             insert into ${n.shadowed} (saved_timestamp, _id, _deleted, source, doc)
             select saved_timestamp, _id, _deleted, coalesce(source, ''), doc from moved
             on conflict (source, _id) do update set saved_timestamp = excluded.saved_timestamp, _deleted = excluded._deleted, doc = excluded.doc`,
            params,
          );
          const isPromoted = (moved.rowCount ?? 0) > 0;
          // The _ids just freed are this source's now.
          if (isPromoted) await upsertOwn();
          // What is still held by a source that outranks (or ties with: first seen wins) this one.
          await c.query(
            `insert into ${n.shadowed} (saved_timestamp, _id, _deleted, source, doc)
             select $3::timestamp, b._id, b._deleted, $1::text, b.doc from ${STAGE} b
             where exists (select 1 from ${n.table} c where c._id = b._id and c.source is distinct from $1::text) and $2::text[] is not null
             on conflict (source, _id) do update set saved_timestamp = excluded.saved_timestamp, _deleted = excluded._deleted, doc = excluded.doc`,
            params,
          );
          // A promoted source's old shadow row goes (exactly one row per (source, _id)).
          if (isPromoted) {
            await c.query(
              `delete from ${n.shadowed} s using ${STAGE} b
               where s.source = $1::text and s._id = b._id and exists (select 1 from ${n.table} c where c._id = b._id and c.source = $1::text)`,
              [batch.source],
            );
          }
        }
      } else if (isProgressDue) {
        await c.query(progressSql('$1::text', '$2::integer', '$3::text'), [batch.seq, batch.pending, batch.source]);
      }
      await c.query('commit');
      let docs = 0;
      let deletes = 0;
      let bytes = 0;
      for (const r of written) {
        docs++;
        if (r.deleted) deletes++;
        bytes += Buffer.byteLength(r.json);
      }
      return { docs, deletes, bytes, skipped };
    } catch (error) {
      if (isConnectionLoss(error) || isBroken) drop(error);
      else await c.query('rollback').catch(() => drop(error));
      throw error;
    }
  };

  return {
    readProgress: async (source) => {
      try {
        return await readProgress(o.pool, o.schema, source, o.table);
      } catch (error) {
        throw translatePgError(error, `reading the saved position of ${source}`);
      }
    },

    async writeBatch(batch) {
      // De-duplicate within the batch (last wins) and sanitise once, before any attempt.
      const byId = new Map<string, PreparedRow>();
      const skipped: SkippedDoc[] = [];
      // Sanitising a full batch takes tens of ms of CPU: prepare it in slices and let the
      // event loop answer between them (the engine runs in Electron's main process).
      let sliceStart = performance.now();
      for (const row of batch.rows) {
        if (performance.now() - sliceStart > PREPARE_SLICE_MS) {
          await setImmediate();
          sliceStart = performance.now();
        }
        const prepared = prepareRow(row, batch.isUsersDb);
        if ('reason' in prepared) {
          skipped.push(prepared);
          continue;
        }
        byId.delete(prepared.id);
        byId.set(prepared.id, prepared);
      }
      const prepared = [...byId.values()];
      for (let attempt = 1; ; attempt++) {
        try {
          return await writeOnce(batch, prepared, skipped);
        } catch (error) {
          const isRetryable =
            isConnectionLoss(error) || ['40001', '40P01'].includes(String((error as { code?: unknown }).code));
          if (!isRetryable || attempt >= maxAttempts)
            throw translatePgError(error, `writing a batch of ${batch.source}`);
          o.logger.warn('PostgreSQL batch failed; retrying', {
            source: batch.source,
            attempt,
            error: error instanceof Error ? error.message : String(error),
          });
          await new Promise((r) => setTimeout(r, retryDelayMs * 2 ** (attempt - 1)));
        }
      }
    },

    async close() {
      drop();
    },
  };
}
