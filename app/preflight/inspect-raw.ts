import pg from 'pg';
import { registerSecret } from '../core/redact';

export interface RawInspection {
  /** The raw table exists (the first sync creates it). */
  isTablePresent: boolean;
  /** The planner's estimate (exact counts cost a scan of millions of rows). */
  rowsEstimate: number | null;
  /** Latest saved_timestamp, ISO, or null. */
  newestRowAt: string | null;
  /** Per source asked for: the position cht-sync resumes from (couchdb_progress). */
  progress: { source: string; seq: string | null; pending: number | null; updatedAt: string | null }[];
  /** Sources writing into the table, from couchdb_progress (other services included). */
  allSources: string[];
}

function q(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** What `cht-sync doctor` reads from PostgreSQL: read-only, one connection, a few catalogue queries. */
export async function inspectRawTables(
  url: string,
  o: { schema: string; table: string; sources: string[]; timeoutMs?: number },
): Promise<RawInspection> {
  registerSecret(decodeURIComponent(new URL(url).password));
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: o.timeoutMs ?? 10_000,
    query_timeout: o.timeoutMs ?? 10_000,
    application_name: 'cht-sync doctor',
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const table = `${q(o.schema)}.${q(o.table)}`;
    const progressTable = `${q(o.schema)}.${q('couchdb_progress')}`;
    const present = await client.query<{ t: string | null; p: string | null }>(
      'select to_regclass($1)::text as t, to_regclass($2)::text as p',
      [table, progressTable],
    );
    const isTablePresent = Boolean(present.rows[0]?.t);
    let rowsEstimate: number | null = null;
    let newestRowAt: string | null = null;
    if (isTablePresent) {
      const est = await client.query<{ n: string }>(
        'select greatest(reltuples, 0)::bigint::text as n from pg_class where oid = to_regclass($1)',
        [table],
      );
      rowsEstimate = est.rows[0] ? Number(est.rows[0].n) : null;
      const newest = await client.query<{ at: string | null }>(
        `select to_char(max(saved_timestamp), 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as at from ${table}`,
      );
      newestRowAt = newest.rows[0]?.at ?? null;
    }
    let progress: RawInspection['progress'] = o.sources.map((source) => ({
      source,
      seq: null,
      pending: null,
      updatedAt: null,
    }));
    let allSources: string[] = [];
    if (present.rows[0]?.p) {
      // raw_table (absent before the first sync of this version migrated the table): each raw table has its own positions.
      const r = await client.query<{
        source: string;
        seq: string | null;
        pending: number | null;
        updated_at: string | null;
        raw_table: string | null;
      }>(
        `select source, seq, pending, to_char(updated_at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as updated_at, to_jsonb(p) ->> 'raw_table' as raw_table from ${progressTable} p order by source`,
      );
      allSources = [...new Set(r.rows.map((x) => x.source))];
      progress = o.sources.map((source) => {
        const row = r.rows.find((x) => x.source === source && (x.raw_table ?? o.table) === o.table);
        return { source, seq: row?.seq ?? null, pending: row?.pending ?? null, updatedAt: row?.updated_at ?? null };
      });
    }
    return { isTablePresent, rowsEstimate, newestRowAt, progress, allSources };
  } finally {
    await client.end().catch(() => undefined);
  }
}
