/**
 * Several cht-sync services (one per CHT instance or database) transform one schema: their runs
 * take turns, and a run that would find nothing new is not made at all.
 *
 * - A run holds a session advisory lock per (database, schema, project) for its whole length; a
 *   second process waits for it (polling, so a stop request is honoured) instead of building the
 *   same tables at the same time.
 * - Each model build holds an advisory lock on its relation, so runs of different projects or
 *   selections that share a model never build it at once (no "already exists", no deadlock).
 * - A daemon run records the raw tables' high-water mark (max saved_timestamp, which the sink
 *   assigns in commit order under the table's lock) when it starts, and that mark once the run
 *   built every model. The next daemon run of the same selection and model fingerprints that finds
 *   the mark unchanged has nothing to do: it is coalesced into the earlier one (N services, one
 *   change, one run). A run limited to a batch of the new rows (a `batch_size` var, cht-sync's
 *   DBT_BATCH_SIZE) covers no mark: it is never coalesced (run-transform.ts).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from '../../core/logger';

const STATE_TABLE = '_cht_sync_transforms';

function q(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface RunLock {
  release(): Promise<void>;
}

/** Holds the run lock of `key` on its own connection; waits (polling) while another process holds it. */
export async function acquireRunLock(
  pool: pg.Pool,
  key: string,
  o: { logger: Logger; signal?: AbortSignal; pollMs?: number },
): Promise<RunLock | null> {
  const client = await pool.connect();
  let isWaitingLogged = false;
  try {
    for (;;) {
      const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtext($1)) as ok', [key]);
      if (r.rows[0]?.ok) break;
      if (o.signal?.aborted) {
        client.release();
        return null;
      }
      if (!isWaitingLogged) {
        o.logger.info('another cht-sync process is running these models; waiting for it to finish', { lock: key });
        isWaitingLogged = true;
      }
      await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 500));
    }
  } catch (error) {
    client.release(true);
    throw error;
  }
  return {
    async release() {
      try {
        await client.query('select pg_advisory_unlock(hashtext($1))', [key]);
        client.release();
      } catch {
        // Closing the connection ends the session and its locks.
        client.release(true);
      }
    },
  };
}

export function runLockKey(database: string, schema: string, project: string): string {
  return `cht-sync:transform:${database}:${schema}:${project}`;
}

export function modelLockKey(database: string, schema: string, identifier: string): string {
  return `cht-sync:model:${database}:${schema}.${identifier}`;
}

/** What a run would do: the selected models as they are now (fingerprints) and the vars. */
export function selectionDigest(parts: {
  models: [string, string][];
  vars: Record<string, unknown>;
  select?: string[];
  exclude?: string[];
}): string {
  const text = JSON.stringify({
    models: [...parts.models].sort(([a], [b]) => a.localeCompare(b)),
    vars: sortKeys(parts.vars),
    select: parts.select ?? [],
    exclude: parts.exclude ?? [],
  });
  return createHash('sha256').update(text).digest('hex');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  return value;
}

export interface Watermark {
  /** The raw tables' max(saved_timestamp) as text, null when they are empty or missing. */
  value: string | null;
  isRawPresent: boolean;
}

/** Read under the run lock, before the models run: rows committed later carry a later stamp. */
export async function rawWatermark(client: pg.Pool | pg.PoolClient, schema: string, table: string): Promise<Watermark> {
  const main = `${q(schema)}.${q(table)}`;
  const shadowed = `${q(schema)}.${q(`${table}_shadowed`)}`;
  const present = await client.query<{ main: string | null; shadowed: string | null }>(
    'select to_regclass($1)::text as main, to_regclass($2)::text as shadowed',
    [main, shadowed],
  );
  const row = present.rows[0];
  if (!row?.main) return { value: null, isRawPresent: false };
  const parts = [`(select max(saved_timestamp) from ${main})`];
  if (row.shadowed) parts.push(`(select max(saved_timestamp) from ${shadowed})`);
  const r = await client.query<{ w: string | null }>(`select greatest(${parts.join(', ')})::text as w`);
  return { value: r.rows[0]?.w ?? null, isRawPresent: true };
}

/** True when the last complete run of this key and digest started after every row now present. */
export async function isCovered(
  client: pg.Pool | pg.PoolClient,
  schema: string,
  key: string,
  digest: string,
  mark: Watermark,
): Promise<boolean> {
  if (!mark.isRawPresent) return false;
  const table = `${q(schema)}.${q(STATE_TABLE)}`;
  const exists = await client.query<{ t: string | null }>('select to_regclass($1)::text as t', [table]);
  if (!exists.rows[0]?.t) return false;
  const r = await client.query<{ covered: boolean }>(
    `select digest = $2 and coalesce(covered_until, '-infinity'::timestamp) >= coalesce($3::timestamp, '-infinity'::timestamp) as covered
       from ${table} where key = $1`,
    [key, digest, mark.value],
  );
  return r.rows[0]?.covered === true;
}

/** After a run that built every model: the rows up to `mark` are in the models. */
export async function recordCovered(
  pool: pg.Pool,
  schema: string,
  key: string,
  digest: string,
  mark: Watermark,
): Promise<void> {
  if (!mark.isRawPresent) return;
  const table = `${q(schema)}.${q(STATE_TABLE)}`;
  const c = await pool.connect();
  try {
    await c.query('begin');
    // The same DDL lock as the raw tables' creation: two processes never create it at once.
    await c.query('select pg_advisory_xact_lock(hashtext($1))', [`cht-sync:${schema}:ddl`]);
    await c.query(
      `create table if not exists ${table} (key text primary key, digest text not null, covered_until timestamp, finished_at timestamptz not null)`,
    );
    await c.query(
      `insert into ${table} (key, digest, covered_until, finished_at) values ($1, $2, $3::timestamp, now())
       on conflict (key) do update set digest = excluded.digest, covered_until = excluded.covered_until, finished_at = excluded.finished_at`,
      [key, digest, mark.value],
    );
    await c.query('commit');
  } catch (error) {
    await c.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    c.release();
  }
}

/** A run's place in the queue of the processes running one project on one schema. */
export type Turn =
  | {
      kind: 'go';
      release(): Promise<void>;
      /** After a run that built everything: record what it covered. */ covered(): Promise<void>;
    }
  | { kind: 'coalesced' | 'cancelled'; release(): Promise<void>; covered(): Promise<void> };

/**
 * Waits for this run's turn (the run lock of the project on the schema), then, for a daemon run
 * (`coalesce`), decides whether there is anything to do. `release` must be called in every case.
 */
export async function takeTurn(
  pool: pg.Pool,
  o: {
    database: string;
    schema: string;
    table: string;
    project: string;
    coalesce: boolean;
    selection: Parameters<typeof selectionDigest>[0];
    logger: Logger;
    signal?: AbortSignal;
  },
): Promise<Turn> {
  const key = runLockKey(o.database, o.schema, o.project);
  const nothing = async (): Promise<void> => undefined;
  const lock = await acquireRunLock(pool, key, { logger: o.logger, ...(o.signal ? { signal: o.signal } : {}) });
  if (!lock) return { kind: 'cancelled', release: nothing, covered: nothing };
  try {
    if (!o.coalesce) return { kind: 'go', release: () => lock.release(), covered: nothing };
    const digest = selectionDigest(o.selection);
    const mark = await rawWatermark(pool, o.schema, o.table);
    if (await isCovered(pool, o.schema, key, digest, mark)) {
      o.logger.info('transform run coalesced: the models already hold every row landed so far', {
        project: o.project,
        watermark: mark.value,
      });
      return { kind: 'coalesced', release: () => lock.release(), covered: nothing };
    }
    return {
      kind: 'go',
      release: () => lock.release(),
      covered: () =>
        recordCovered(pool, o.schema, key, digest, mark).catch((error: unknown) =>
          o.logger.warn('could not record what the transform run covered', { error }),
        ),
    };
  } catch (error) {
    await lock.release();
    throw error;
  }
}
