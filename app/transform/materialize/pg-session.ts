import pg from 'pg';
import { EngineError } from '../../core/engine-error';
import type { Logger } from '../../core/logger';

/**
 * One PostgreSQL connection used by one model at a time, with our type parsing: timestamps,
 * timestamptz and dates stay text (a JS Date loses microseconds, and a watermark rounded up by
 * even one microsecond skips rows), bigint/numeric become numbers as Python would see them.
 */
const TEXT_OIDS = new Set([1114, 1184, 1082, 1083, 1266, 1186]);

export const transformTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (TEXT_OIDS.has(oid)) return (v: string) => v;
    if (oid === 20 || oid === 1700) {
      return (v: string) => {
        const n = Number(v);
        return Number.isFinite(n) && (oid === 1700 || Number.isSafeInteger(n)) ? n : v;
      };
    }
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  },
};

export interface QueryOutcome {
  rows: Record<string, unknown>[];
  fields: { name: string; dataTypeID: number }[];
  rowCount: number | null;
  command: string;
}

export interface PgSession {
  query(sql: string, params?: unknown[]): Promise<QueryOutcome>;
  /** Run many statements separated by `;` (simple protocol); returns the last statement's outcome. */
  script(sql: string): Promise<QueryOutcome>;
  release(): void;
}

export function wrapClient(client: pg.PoolClient, logger: Logger): PgSession {
  const toOutcome = (r: pg.QueryResult): QueryOutcome => ({
    rows: r.rows as Record<string, unknown>[],
    fields: (r.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
    rowCount: r.rowCount,
    command: r.command,
  });
  return {
    async query(sql, params) {
      logger.debug('sql', { sql: sql.length > 2000 ? `${sql.slice(0, 2000)}…` : sql });
      const r = await client.query({ text: sql, values: params, types: transformTypes });
      return toOutcome(r);
    },
    async script(sql) {
      logger.debug('sql', { sql: sql.length > 2000 ? `${sql.slice(0, 2000)}…` : sql });
      const r = (await client.query({ text: sql, types: transformTypes })) as pg.QueryResult | pg.QueryResult[];
      const list = Array.isArray(r) ? r : [r];
      const last = list.at(-1);
      return last ? toOutcome(last) : { rows: [], fields: [], rowCount: null, command: '' };
    },
    release() {
      client.release();
    },
  };
}

/**
 * One connection for a short job outside a run (dbt's debug, docs generate, run-operation, source
 * freshness): a pool of one is opened on `url`, its client handed to `fn` as a session, and both
 * are closed whatever `fn` does. `connectTimeoutMs` bounds the wait for the server (none: pg's).
 */
export async function withPgSession<T>(
  url: string,
  logger: Logger,
  fn: (session: PgSession) => Promise<T>,
  o: { connectTimeoutMs?: number } = {},
): Promise<T> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 1,
    ...(o.connectTimeoutMs !== undefined ? { connectionTimeoutMillis: o.connectTimeoutMs } : {}),
  });
  try {
    const client = await pool.connect();
    try {
      return await fn(wrapClient(client, logger));
    } finally {
      client.release();
    }
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** The fragment of `sql` around a PostgreSQL error position, for the run history. */
export function sqlFragment(sql: string, position: number | null): string {
  if (position === null || !Number.isFinite(position)) return sql.length > 400 ? `${sql.slice(0, 400)}…` : sql;
  const start = Math.max(0, position - 160);
  const end = Math.min(sql.length, position + 160);
  return `${start > 0 ? '…' : ''}${sql.slice(start, end)}${end < sql.length ? '…' : ''}`;
}

/** The line (1-based) in `sql` of a PostgreSQL error position. */
export function lineOf(sql: string, position: number | null): number | null {
  if (position === null || !Number.isFinite(position)) return null;
  return sql.slice(0, position).split('\n').length;
}

/**
 * Where a PostgreSQL error position falls in the model's own file. The statement wraps the
 * compiled SQL (`create table … as (` adds lines), and Jinja changes line counts, so: the line
 * within the compiled SQL, then the file line that has the same text (when exactly one does).
 * Null when the position is outside the model's SQL (e.g. in a hook).
 */
export function sourceLineOf(
  statement: string,
  position: number | null,
  compiled: string,
  raw: string,
): { line: number; compiledLine: number } | null {
  if (position === null || !compiled) return null;
  const at = statement.indexOf(compiled);
  if (at < 0 || position < at || position > at + compiled.length) return null;
  const compiledLine = compiled.slice(0, position - at).split('\n').length;
  const text = compiled.split('\n')[compiledLine - 1]?.trim() ?? '';
  const rawLines = raw.split('\n');
  const hits = text ? rawLines.flatMap((l, idx) => (l.trim() === text ? [idx + 1] : [])) : [];
  return {
    line:
      hits.length === 1
        ? hits[0]!
        : compiledLine +
          (raw.length - raw.trimStart().length
            ? raw.slice(0, raw.length - raw.trimStart().length).split('\n').length - 1
            : 0),
    compiledLine,
  };
}

/** A failed statement as an EngineError naming the model and the failing SQL. */
export function queryError(
  error: unknown,
  o: { model: string; file: string; sql: string; compiled?: string; raw?: string },
): EngineError {
  if (error instanceof EngineError) return error;
  const e = error as { message?: string; position?: string; code?: string; detail?: string; hint?: string };
  const pos = e.position ? Number(e.position) - 1 : null;
  const inModel = o.compiled !== undefined && o.raw !== undefined ? sourceLineOf(o.sql, pos, o.compiled, o.raw) : null;
  const line = inModel ? inModel.line : lineOf(o.sql, pos);
  const msg = `Model ${o.model} (${o.file}) failed in PostgreSQL: ${e.message ?? String(error)}${e.detail ? ` (${e.detail})` : ''}${e.hint ? ` Hint: ${e.hint}` : ''}`;
  return new EngineError('MODEL_RUN', msg, {
    cause: error,
    details: {
      model: o.model,
      file: o.file,
      ...(line !== null ? { line } : {}),
      ...(inModel ? { compiledLine: inModel.compiledLine } : {}),
      sqlFragment: sqlFragment(o.sql, pos),
      ...(e.code ? { pgCode: e.code } : {}),
    },
  });
}
