/**
 * One measured workload, run in its own process so its peak RSS and CPU are its own.
 * Bundled to CommonJS by the bench (like dist/cli.cjs) and run with plain `node`.
 * argv[2]: JSON ChildTask. Prints one JSON line: ChildReport.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import nano from 'nano';
import { createCouchChangesSource } from '../../app/couch/couch-changes-source';
import { silentLogger } from '../../app/core/logger';
import { syncOnce } from '../../app/engine/sync-wiring';
import { ensureRawSchema } from '../../app/postgres/raw-schema';
import { catchUpBatches } from '../../app/sync/batcher';

export interface ChildTask {
  mode: 'sync' | 'read' | 'read-ours' | 'read-nano' | 'naive' | 'copy' | 'copy-upsert';
  couchUrl: string;
  username?: string;
  password?: string;
  databases: string[];
  pgUrl: string;
  schema: string;
  batchSize: number;
  maxBatchBytes: number;
  /** copy mode: CSV file of (saved_timestamp,_id,_deleted,source,doc) rows */
  csvFile?: string;
}

export interface ChildReport {
  seconds: number;
  docs: number;
  bytes: number;
  maxRssMb: number;
  cpuSeconds: number;
  /** Peaks sampled every 100 ms: JS heap used and reserved, and memory outside the heap (Buffers). */
  memory?: Record<string, number>;
  outcome: string;
  detail?: unknown;
}

const task = JSON.parse(process.argv[2] ?? '{}') as ChildTask;
const authHeader = task.username
  ? `Basic ${Buffer.from(`${task.username}:${task.password ?? ''}`).toString('base64')}`
  : undefined;
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function get(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'identity' };
    if (authHeader) headers.authorization = authHeader;
    const req = http.get(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(Buffer.concat(chunks))
          : reject(new Error(`HTTP ${res.statusCode} for ${url.replace(/\?.*/, '')}`)),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

interface Page {
  results: { id: string; deleted?: boolean; doc?: Record<string, unknown> }[];
  last_seq: string | number;
}

/** Pages through one database's feed; `onPage` runs before the next request (strict alternation when awaited). */
async function readFeed(
  db: string,
  onPage: (page: Page, raw: Buffer) => Promise<void> | void,
): Promise<{ docs: number; bytes: number }> {
  let since: string | null = null;
  let docs = 0;
  let bytes = 0;
  for (;;) {
    const q = new URLSearchParams({
      limit: String(task.batchSize),
      seq_interval: String(task.batchSize),
      include_docs: 'true',
    });
    if (since !== null) q.set('since', since);
    const raw = await get(`${task.couchUrl}/${encodeURIComponent(db)}/_changes?${q.toString()}`);
    const page = JSON.parse(raw.toString('utf8')) as Page;
    docs += page.results.length;
    bytes += raw.length;
    await onPage(page, raw);
    since = String(page.last_seq);
    if (page.results.length < task.batchSize) return { docs, bytes };
  }
}

async function runRead(): Promise<Omit<ChildReport, 'maxRssMb' | 'cpuSeconds' | 'seconds'>> {
  const results = await Promise.all(task.databases.map((db) => readFeed(db, () => undefined)));
  return {
    docs: results.reduce((n, r) => n + r.docs, 0),
    bytes: results.reduce((n, r) => n + r.bytes, 0),
    outcome: 'success',
  };
}

/** The product's feed reader alone (app/couch's source + the batcher), writing nothing. */
async function runReadOurs(): Promise<Omit<ChildReport, 'maxRssMb' | 'cpuSeconds' | 'seconds'>> {
  const conn = {
    url: task.couchUrl,
    ...(task.username ? { username: task.username, password: task.password ?? '' } : {}),
  };
  const results = await Promise.all(
    task.databases.map(async (db) => {
      const source = createCouchChangesSource(conn, db);
      let docs = 0;
      let bytes = 0;
      try {
        for await (const batch of catchUpBatches(
          source,
          null,
          { batchSize: task.batchSize, maxBatchBytes: task.maxBatchBytes },
          new AbortController().signal,
        )) {
          docs += batch.rows.length;
          bytes += batch.bytes;
        }
      } finally {
        source.close();
      }
      return { docs, bytes };
    }),
  );
  return {
    docs: results.reduce((n, r) => n + r.docs, 0),
    bytes: results.reduce((n, r) => n + r.bytes, 0),
    outcome: 'success',
  };
}

/**
 * nano's own changes call, paged the same way (each page fetched and parsed whole), writing
 * nothing — but serialising each doc once, as storing it needs (our reader keeps the text received).
 */
async function runReadNano(): Promise<Omit<ChildReport, 'maxRssMb' | 'cpuSeconds' | 'seconds'>> {
  const server = nano({ url: task.couchUrl, ...(task.username ? { headers: { authorization: authHeader } } : {}) });
  const results = await Promise.all(
    task.databases.map(async (db) => {
      let since: string | undefined;
      let docs = 0;
      let bytes = 0;
      for (;;) {
        const page = await server.use(db).changes({
          limit: task.batchSize,
          seq_interval: task.batchSize,
          include_docs: true,
          ...(since !== undefined ? { since } : {}),
        } as nano.DatabaseChangesParams);
        docs += page.results.length;
        for (const r of page.results as { doc?: unknown }[]) if (r.doc) bytes += JSON.stringify(r.doc).length;
        since = String(page.last_seq);
        if (page.results.length < task.batchSize) return { docs, bytes };
      }
    }),
  );
  return {
    docs: results.reduce((n, r) => n + r.docs, 0),
    bytes: results.reduce((n, r) => n + r.bytes, 0),
    outcome: 'success',
  };
}

/** Roughly what cht-sync 2.0.2's couch2pg does: fetch, then write, strictly alternating; a new connection per batch; one multi-row INSERT. */
async function runNaive(): Promise<Omit<ChildReport, 'maxRssMb' | 'cpuSeconds' | 'seconds'>> {
  const setup = new pg.Client({ connectionString: task.pgUrl });
  await setup.connect();
  await setup.query(`create schema if not exists "${task.schema}"`);
  await setup.query(
    `create table if not exists "${task.schema}".couchdb (saved_timestamp timestamp, _id varchar primary key, _deleted boolean, source varchar, doc jsonb)`,
  );
  await setup.query(`create index if not exists naive_deleted on "${task.schema}".couchdb (_deleted)`);
  await setup.query(`create index if not exists naive_ts on "${task.schema}".couchdb (saved_timestamp)`);
  await setup.query(`create index if not exists naive_source on "${task.schema}".couchdb (source)`);
  await setup.query(
    `create table if not exists "${task.schema}".couchdb_progress (seq varchar, pending integer, updated_at timestamptz, source varchar primary key)`,
  );
  await setup.end();
  const host = new URL(task.couchUrl).host;
  const results = await Promise.all(
    task.databases.map((db) =>
      readFeed(db, async (page) => {
        const client = new pg.Client({ connectionString: task.pgUrl });
        await client.connect();
        try {
          if (page.results.length) {
            const values: unknown[] = [];
            const rows = page.results.map((r, i) => {
              const doc = r.deleted && !r.doc ? { _id: r.id, _deleted: true } : r.doc;
              // cht-sync's sanitising regex, as it is (it also eats the backslashes before a literal "\u0000")
              values.push(
                r.id,
                r.deleted === true,
                `${host}/${db}`,
                // eslint-disable-next-line no-control-regex
                JSON.stringify(doc).replace(/(\\+u0000)|\u0000/g, ''),
              );
              return `(now(), $${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4})`;
            });
            await client.query(
              `insert into "${task.schema}".couchdb (saved_timestamp, _id, _deleted, source, doc) values ${rows.join(',')}
               on conflict (_id) do update set saved_timestamp = excluded.saved_timestamp, _deleted = excluded._deleted, source = excluded.source, doc = excluded.doc`,
              values,
            );
          }
          await client.query(
            `insert into "${task.schema}".couchdb_progress (seq, pending, updated_at, source) values ($1, null, now(), $2)
             on conflict (source) do update set seq = excluded.seq, updated_at = excluded.updated_at`,
            [String(page.last_seq), `${host}/${db}`],
          );
        } finally {
          await client.end();
        }
      }),
    ),
  );
  return {
    docs: results.reduce((n, r) => n + r.docs, 0),
    bytes: results.reduce((n, r) => n + r.bytes, 0),
    outcome: 'success',
  };
}

async function runCopy(): Promise<Omit<ChildReport, 'maxRssMb' | 'cpuSeconds' | 'seconds'>> {
  const client = new pg.Client({ connectionString: task.pgUrl });
  await client.connect();
  const t = `"${task.schema}".couchdb_copy`;
  await client.query(`create schema if not exists "${task.schema}"`);
  await client.query(
    `create table ${t} (saved_timestamp timestamp, _id varchar, _deleted boolean, source varchar, doc jsonb, primary key (source, _id))`,
  );
  await client.query(`create index on ${t} (_deleted)`);
  await client.query(`create index on ${t} (saved_timestamp)`);
  await client.query(`create index on ${t} (source)`);
  await client.query('begin');
  const stream = client.query(
    copyFrom(`copy ${t} (saved_timestamp, _id, _deleted, source, doc) from stdin with (format csv)`),
  );
  await pipeline(createReadStream(task.csvFile ?? ''), stream);
  await client.query('commit');
  const count = await client.query<{ n: string }>(`select count(*) as n from ${t}`);
  await client.end();
  return { docs: Number(count.rows[0]?.n ?? 0), bytes: 0, outcome: 'success' };
}

/** The PostgreSQL side of an idempotent sink, no HTTP: per batch, COPY into a temp staging table, then one upsert, one commit. */
async function runCopyUpsert(): Promise<Omit<ChildReport, 'maxRssMb' | 'cpuSeconds' | 'seconds'>> {
  const client = new pg.Client({ connectionString: task.pgUrl });
  await client.connect();
  const t = `"${task.schema}".couchdb_upsert`;
  await client.query(`create schema if not exists "${task.schema}"`);
  await client.query(
    `create table ${t} (saved_timestamp timestamp, _id varchar primary key, _deleted boolean, source varchar, doc jsonb)`,
  );
  await client.query(`create index on ${t} (_deleted)`);
  await client.query(`create index on ${t} (saved_timestamp)`);
  await client.query(`create index on ${t} (source)`);
  let docs = 0;
  const flush = async (lines: string[]): Promise<void> => {
    await client.query('begin');
    await client.query(
      'create temp table stage (saved_timestamp timestamp, _id varchar, _deleted boolean, source varchar, doc jsonb) on commit drop',
    );
    const stream = client.query(copyFrom('copy stage from stdin with (format csv)'));
    await pipeline(async function* () {
      yield lines.join('\n') + '\n';
    }, stream);
    await client.query(`insert into ${t} select distinct on (_id) * from stage order by _id
      on conflict (_id) do update set saved_timestamp = excluded.saved_timestamp, _deleted = excluded._deleted, source = excluded.source, doc = excluded.doc`);
    await client.query('commit');
    docs += lines.length;
  };
  let lines: string[] = [];
  for await (const line of createInterface({ input: createReadStream(task.csvFile ?? ''), crlfDelay: Infinity })) {
    lines.push(line);
    if (lines.length >= task.batchSize) {
      await flush(lines);
      lines = [];
    }
  }
  if (lines.length) await flush(lines);
  await client.end();
  return { docs, bytes: 0, outcome: 'success' };
}

async function runSync(): Promise<Omit<ChildReport, 'maxRssMb' | 'cpuSeconds' | 'seconds'>> {
  const pool = new pg.Pool({ connectionString: task.pgUrl, max: task.databases.length + 2 });
  await ensureRawSchema(pool, task.schema, 'couchdb');
  const checkpoints = new Map<string, { seq: string; pending: number | null; updatedAt: string }>();
  const result = await syncOnce({
    couch: { url: task.couchUrl, ...(task.username ? { username: task.username, password: task.password ?? '' } : {}) },
    databases: task.databases,
    pool,
    schema: task.schema,
    table: 'couchdb',
    batchSize: task.batchSize,
    maxBatchBytes: task.maxBatchBytes,
    checkpoints: {
      get: (s) => checkpoints.get(s) ?? null,
      set: (s, seq, pending) => void checkpoints.set(s, { seq, pending, updatedAt: new Date().toISOString() }),
    },
    logger: silentLogger,
  });
  await pool.end();
  return {
    docs: result.databases.reduce((n, d) => n + d.docs, 0),
    bytes: result.databases.reduce((n, d) => n + d.bytes, 0),
    outcome: result.outcome,
    detail: result.databases.map((d) => ({
      database: d.database,
      outcome: d.outcome,
      docs: d.docs,
      deletes: d.deletes,
      skipped: d.skipped.length,
      seconds: d.seconds,
      error: d.error?.message,
    })),
  };
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  // Where the peak RSS comes from: the largest JS heap and off-heap (Buffers) seen, sampled every 100 ms
  // (process.memoryUsage() is not free: sampling faster shows in the measured CPU).
  const peak = { heapUsedMb: 0, heapTotalMb: 0, externalMb: 0 };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak.heapUsedMb = Math.max(peak.heapUsedMb, m.heapUsed / 2 ** 20);
    peak.heapTotalMb = Math.max(peak.heapTotalMb, m.heapTotal / 2 ** 20);
    peak.externalMb = Math.max(peak.externalMb, m.external / 2 ** 20);
  }, 100);
  const runs = {
    read: runRead,
    'read-ours': runReadOurs,
    'read-nano': runReadNano,
    naive: runNaive,
    copy: runCopy,
    'copy-upsert': runCopyUpsert,
    sync: runSync,
  } satisfies Record<ChildTask['mode'], unknown>;
  const work = runs[task.mode]();
  const out = await work;
  clearInterval(sampler);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const usage = process.resourceUsage();
  const memory = Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v)]));
  const report: ChildReport = {
    ...out,
    seconds,
    maxRssMb: usage.maxRSS / 1024,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    memory,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  agent.destroy();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
