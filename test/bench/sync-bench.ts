import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { build } from 'esbuild';
import pg from 'pg';
import { createHash } from 'node:crypto';
import { silentLogger } from '../../app/core/logger';
import { startDemoCouch } from '../../app/demo';
import { CHT_DATABASES, generateChtDocs } from '../../app/generator';
import type { ChildReport, ChildTask } from './bench-child';
import { bundleCli, cliSyncOnce } from './cli-process';
import type { BenchPostgres } from './pg-target';
import { postgresCpuReader, settlePostgres } from './postgres-cpu';
import { startReplayServer, writeReplayFiles, type ReplayFiles } from './replay-server';
import type { BenchSectionResult, BenchTable } from './report';

export interface SyncBenchOptions {
  /** Data-set sizes; the first one also runs against pouchdb-server when `pouch` is on. */
  sizes: number[];
  seed: number;
  pouch: boolean;
  naive: boolean;
  batchSize: number;
  /** Rounds of each headline pair (COPY ceiling + sync from the replay source; read ceiling + sync from pouchdb-server), interleaved; medians are reported. */
  repeat: number;
  workDir: string;
  pg: BenchPostgres;
  log: (message: string) => void;
}

interface Measured extends ChildReport {
  source: string;
  run: string;
  size: number;
  /** CPU seconds of the host's PostgreSQL during the run, when it runs on this host. */
  pgCpuSeconds: number | null;
  /** How many runs the figures are the median of, and the docs/s they ranged over. */
  runs: number;
  range: [number, number];
}

const rate = (m: ChildReport): number => m.docs / m.seconds;

/** The run with the median docs/s (the lower middle for an even count), with the range of all. */
function median(runs: Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => rate(a) - rate(b));
  const mid = sorted[Math.floor((sorted.length - 1) / 2)] as Measured;
  return {
    ...mid,
    runs: runs.length,
    range: [rate(sorted[0] as Measured), rate(sorted[sorted.length - 1] as Measured)],
  };
}

const MB = 1024 * 1024;
/** The product's bin from spawn to exit: a user's time, start-up included. */
const CLI_RUN = '`cht-sync sync --once`, the bin, spawn to exit';

function isSuccess(outcome: string): boolean {
  return outcome === 'success' || outcome === 'done';
}

export async function bundleChild(): Promise<string> {
  // next to the repo's node_modules, so the bundle resolves pg like dist/cli.cjs does
  const outfile = path.resolve('test-results/bench/bench-child.cjs');
  mkdirSync(path.dirname(outfile), { recursive: true });
  await build({
    entryPoints: ['test/bench/bench-child.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    logLevel: 'warning',
  });
  return outfile;
}

/** Extra node flags for the measured children, e.g. CHT_SYNC_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof" to profile them. */
const childNodeArgs = (process.env.CHT_SYNC_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

export function runChild(bundle: string, task: ChildTask): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childNodeArgs, bundle, JSON.stringify(task)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench child (${task.mode}) failed: ${err.slice(-1500)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as ChildReport);
      } catch {
        reject(new Error(`bench child (${task.mode}) printed no report: ${out.slice(-500)} ${err.slice(-500)}`));
      }
    });
  });
}

/** Changes when the generator's output changes, so a cached seeded server is never stale. */
export function generatorFingerprint(seed: number): string {
  const hash = createHash('sha1');
  for (const { database, doc } of generateChtDocs({ seed, docs: 3000 }))
    hash.update(database).update(JSON.stringify(doc));
  return hash.digest('hex').slice(0, 10);
}

function csvQuote(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** One pass over the generator: the replay files and the CSV the COPY ceiling loads. */
async function prepare(
  dir: string,
  seed: number,
  docs: number,
): Promise<{ files: ReplayFiles; csvFile: string; total: number }> {
  mkdirSync(dir, { recursive: true });
  const csvFile = path.join(dir, 'docs.csv');
  const csv = createWriteStream(csvFile);
  const now = new Date().toISOString();
  let total = 0;
  const files = await writeReplayFiles(dir, generateChtDocs({ seed, docs }), (item) => {
    total += 1;
    // a jsonb column takes no NUL: strip real \u0000 escapes, keep escaped backslashes
    const json = JSON.stringify(item.doc).replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1');
    const line = `${now},${csvQuote(String(item.doc._id))},${item.doc._deleted === true},${csvQuote(`replay/${item.database}`)},${csvQuote(json)}\n`;
    return csv.write(line) ? undefined : once(csv, 'drain');
  });
  csv.end();
  await once(csv, 'finish');
  return { files, csvFile, total };
}

export async function countRows(url: string, relation: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(`select count(*) as n from ${relation}`)).rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

export async function runSyncBench(o: SyncBenchOptions): Promise<BenchSectionResult> {
  const bundle = await bundleChild();
  const cliBin = await bundleCli();
  const measured: Measured[] = [];
  const pgCpu = postgresCpuReader(o.pg.url);
  const feedBytes = new Map<string, number>();
  const checks: BenchSectionResult['checks'] = [];
  const databases = [...CHT_DATABASES];
  const base = { databases, pgUrl: o.pg.url, batchSize: o.batchSize, maxBatchBytes: 16 * MB };

  for (const [index, size] of o.sizes.entries()) {
    o.log(`sync bench: preparing ${size.toLocaleString('en-US')} generated docs (seed ${o.seed})`);
    const prep = await prepare(path.join(o.workDir, `set-${size}`), o.seed, size);
    const tag = (s: string): string => `${s}_${size}`;

    const schemas: string[] = [];
    /** One child run, on a settled PostgreSQL; not recorded until `record`. */
    const runOnce = async (source: string, run: string, task: ChildTask): Promise<Measured> => {
      await settlePostgres(o.pg.url, schemas.splice(0));
      if (task.schema) schemas.push(task.schema);
      o.log(`sync bench: ${source} · ${run} · ${size.toLocaleString('en-US')} docs`);
      const pgBefore = pgCpu?.() ?? 0;
      const r = await runChild(bundle, task);
      // the backends exit after the child closed its connections: give the postmaster a moment to reap them
      if (pgCpu) await new Promise((resolve) => setTimeout(resolve, 300));
      const m: Measured = {
        ...r,
        source,
        run,
        size,
        pgCpuSeconds: pgCpu ? pgCpu() - pgBefore : null,
        runs: 1,
        range: [rate(r), rate(r)],
      };
      o.log(
        `  → ${Math.round(rate(m))} docs/s, ${m.seconds.toFixed(1)} s, peak RSS ${m.maxRssMb.toFixed(0)} MB (heap ${m.memory?.heapUsedMb ?? '?'} used / ${m.memory?.heapTotalMb ?? '?'} reserved, ${m.memory?.externalMb ?? '?'} outside), CPU ${m.cpuSeconds.toFixed(1)} s${m.pgCpuSeconds === null ? '' : ` + PostgreSQL ${m.pgCpuSeconds.toFixed(1)} s`}, outcome ${m.outcome}`,
      );
      return m;
    };
    /**
     * The product's bin, as a user runs it: `cht-sync sync --once` timed from spawn to exit
     * (start-up, store, preflight included), into a fresh schema and data folder.
     */
    const runCli = async (source: string, task: ChildTask): Promise<Measured> => {
      await settlePostgres(o.pg.url, schemas.splice(0));
      schemas.push(task.schema);
      const run = CLI_RUN;
      o.log(`sync bench: ${source} · ${run} · ${size.toLocaleString('en-US')} docs`);
      const pgBefore = pgCpu?.() ?? 0;
      const dataDir = mkdtempSync(path.join(o.workDir, 'cli-data-'));
      const r = await cliSyncOnce(cliBin, {
        couchUrl: task.couchUrl,
        ...(task.username ? { username: task.username, password: task.password ?? '' } : {}),
        pgUrl: task.pgUrl,
        schema: task.schema,
        dataDir,
        databases: task.databases,
      });
      if (pgCpu) await new Promise((resolve) => setTimeout(resolve, 300));
      const docs = await countRows(o.pg.url, `"${task.schema}"."couchdb_all"`);
      if (r.code !== 0) o.log(r.stderr.slice(-1500));
      const m: Measured = {
        seconds: r.seconds,
        docs,
        bytes: 0,
        maxRssMb: r.maxRssMb,
        cpuSeconds: r.cpuSeconds ?? Number.NaN,
        outcome: r.code === 0 ? 'success' : `exit ${r.code}`,
        source,
        run,
        size,
        pgCpuSeconds: pgCpu ? pgCpu() - pgBefore : null,
        runs: 1,
        range: [docs / r.seconds, docs / r.seconds],
      };
      o.log(
        `  → ${Math.round(rate(m))} docs/s, ${m.seconds.toFixed(1)} s spawn to exit, peak RSS ${m.maxRssMb.toFixed(0)} MB, CPU ${m.cpuSeconds.toFixed(1)} s, exit ${r.code}`,
      );
      return m;
    };
    const record = (runs: Measured[]): Measured => {
      const m = median(runs);
      measured.push(m);
      return m;
    };
    const measure = async (source: string, run: string, task: ChildTask): Promise<Measured> =>
      record([await runOnce(source, run, task)]);

    const copyTask: ChildTask = { ...base, mode: 'copy', couchUrl: '', schema: tag('copy'), csvFile: prep.csvFile };
    // the replay source: not the bottleneck
    const replay = await startReplayServer(prep.files);
    let copy: Measured;
    try {
      const task = { ...base, couchUrl: replay.url };
      const read = await measure('replay', 'read feed, no sink (ceiling a)', { ...task, mode: 'read', schema: '' });
      feedBytes.set(`replay-${size}`, read.bytes);
      // The headline ratio is sync ÷ COPY ceiling: both are measured in interleaved rounds and
      // the medians compared, so a noisy moment of the machine does not decide it.
      const copies: Measured[] = [];
      const syncs: Measured[] = [];
      const clis: Measured[] = [];
      let syncMainRows = 0;
      for (let round = 1; round <= o.repeat; round++) {
        // ceiling b: COPY the same documents straight into PostgreSQL (source-independent)
        copies.push(await runOnce('PostgreSQL', 'COPY-load, no HTTP (ceiling b)', copyTask));
        const sync = await runOnce('replay', 'syncOnce → PostgreSQL', {
          ...task,
          mode: 'sync',
          schema: tag('replay_sync'),
        });
        syncs.push(sync);
        const rows = await countRows(o.pg.url, `"${tag('replay_sync')}"."couchdb_all"`);
        syncMainRows = await countRows(o.pg.url, `"${tag('replay_sync')}".couchdb`);
        checks.push({
          name: `replay ${size}, round ${round}: every (database, _id) landed once`,
          pass: rows === prep.total && isSuccess(sync.outcome),
          detail: `${rows} rows for ${prep.total} docs, outcome ${sync.outcome}`,
        });
        const cli = await runCli('replay', { ...task, mode: 'sync', schema: tag('replay_cli') });
        clis.push(cli);
        checks.push({
          name: `replay ${size}, round ${round}: the bin's sync --once exits 0 with every (database, _id) once`,
          pass: cli.docs === prep.total && isSuccess(cli.outcome),
          detail: `${cli.docs} rows for ${prep.total} docs, ${cli.outcome}`,
        });
      }
      copy = record(copies);
      const sync = record(syncs);
      record(clis);
      const slower = Math.min(rate(read), rate(copy));
      const ratio = rate(sync) / slower;
      checks.push({
        name: `replay ${size}: ≥ 0.8 of the slower ceiling (medians of ${o.repeat})`,
        pass: ratio >= 0.8,
        detail: `${ratio.toFixed(2)}`,
      });
      checks.push({
        name: `replay ${size}: peak RSS ≤ 250 MB`,
        pass: Math.max(...syncs.map((m) => m.maxRssMb)) <= 250,
        detail: `${Math.max(...syncs.map((m) => m.maxRssMb)).toFixed(0)} MB (highest of ${syncs.length})`,
      });
      // The feed reader (issue 9 §3: nano for request/response calls, our reader for the feed where
      // it is faster): the product's reader and nano's changes call, same pages, both writing nothing.
      await measure('replay', 'read feed: our streaming reader (app/couch), no sink', {
        ...task,
        mode: 'read-ours',
        schema: '',
      });
      await measure('replay', "read feed: nano's changes call + serialising each doc, no sink", {
        ...task,
        mode: 'read-nano',
        schema: '',
      });
      // for reading the figures: what an idempotent sink costs PostgreSQL alone (not a ceiling of the brief)
      await measure('PostgreSQL', `COPY to staging + upsert per ${o.batchSize}, no HTTP`, {
        ...base,
        mode: 'copy-upsert',
        couchUrl: '',
        schema: tag('upsert'),
        csvFile: prep.csvFile,
      });
      if (o.naive) {
        await measure('replay', 'naive: alternate fetch/write, INSERT per batch, new connection', {
          ...task,
          mode: 'naive',
          schema: tag('replay_naive'),
        });
        // keyed on _id alone, like cht-sync: it must hold one row per distinct _id, as syncOnce's main table does
        const naiveRows = await countRows(o.pg.url, `"${tag('replay_naive')}".couchdb`);
        checks.push({
          name: `replay ${size}: naive run wrote one row per _id (sanity of the comparison)`,
          pass: naiveRows === syncMainRows,
          detail: `${naiveRows} vs ${syncMainRows}`,
        });
      }
    } finally {
      await replay.close();
    }

    if (o.pouch && index === 0) {
      // The demo server keeps its leveldb data: seeded once per (generator version, seed, size), reused by later runs.
      const cacheDir = path.resolve('.cache/bench', `pouch-${o.seed}-${size}-${generatorFingerprint(o.seed)}`);
      o.log(
        `sync bench: pouchdb-server (leveldb) with ${size.toLocaleString('en-US')} docs in ${path.relative(process.cwd(), cacheDir)} (seeded on first use)`,
      );
      const seedStarted = Date.now();
      const pouch = await startDemoCouch({ dataDir: cacheDir, docs: size, seed: o.seed, logger: silentLogger });
      try {
        if (pouch.didSeed) o.log(`  → seeded in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);
        const task = { ...base, couchUrl: pouch.url, username: pouch.username, password: pouch.password };
        // the headline pair here is sync ÷ reading the feed: interleaved rounds, medians compared
        const reads: Measured[] = [];
        const syncs: Measured[] = [];
        const clis: Measured[] = [];
        for (let round = 1; round <= o.repeat; round++) {
          reads.push(
            await runOnce('pouchdb-server', 'read feed, no sink (ceiling a)', { ...task, mode: 'read', schema: '' }),
          );
          const sync = await runOnce('pouchdb-server', 'syncOnce → PostgreSQL', {
            ...task,
            mode: 'sync',
            schema: tag('pouch_sync'),
          });
          syncs.push(sync);
          const rows = await countRows(o.pg.url, `"${tag('pouch_sync')}"."couchdb_all"`);
          // pouchdb-server's _users has its own _design/_auth
          checks.push({
            name: `pouchdb-server ${size}, round ${round}: every (database, _id) landed once`,
            pass: rows === prep.total + 1 && isSuccess(sync.outcome),
            detail: `${rows} rows for ${prep.total} docs + _design/_auth, outcome ${sync.outcome}`,
          });
          const cli = await runCli('pouchdb-server', { ...task, mode: 'sync', schema: tag('pouch_cli') });
          clis.push(cli);
          checks.push({
            name: `pouchdb-server ${size}, round ${round}: the bin's sync --once exits 0 with every (database, _id) once`,
            pass: cli.docs === prep.total + 1 && isSuccess(cli.outcome),
            detail: `${cli.docs} rows for ${prep.total} docs + _design/_auth, ${cli.outcome}`,
          });
        }
        const read = record(reads);
        feedBytes.set(`pouchdb-server-${size}`, read.bytes);
        const sync = record(syncs);
        record(clis);
        const slower = Math.min(rate(read), rate(copy));
        const ratio = rate(sync) / slower;
        checks.push({
          name: `pouchdb-server ${size}: ≥ 0.8 of the slower ceiling (medians of ${o.repeat})`,
          pass: ratio >= 0.8,
          detail: `${ratio.toFixed(2)}`,
        });
        if (o.naive)
          await measure('pouchdb-server', 'naive: alternate fetch/write, INSERT per batch, new connection', {
            ...task,
            mode: 'naive',
            schema: tag('pouch_naive'),
          });
      } finally {
        await pouch.stop();
      }
    }
  }

  const syncRss = measured.filter((m) => m.run.startsWith('syncOnce') && m.source === 'replay');
  if (syncRss.length > 1) {
    const min = Math.min(...syncRss.map((m) => m.maxRssMb));
    const max = Math.max(...syncRss.map((m) => m.maxRssMb));
    checks.push({
      name: 'peak RSS flat across sizes (replay)',
      pass: max <= 250 && max - min <= 40,
      detail: syncRss.map((m) => `${m.size}: ${m.maxRssMb.toFixed(0)} MB`).join(', '),
    });
  }

  const ceilingRate = (m: Measured, kind: 'read' | 'copy'): number | null => {
    const c = measured.find(
      (x) =>
        x.size === m.size &&
        (kind === 'copy' ? x.run.startsWith('COPY-load') : x.source === m.source && x.run.startsWith('read')),
    );
    return c ? rate(c) : null;
  };
  const table: BenchTable = {
    title: `Sync: ${o.sizes.map((s) => s.toLocaleString('en-US')).join(' and ')} generated CHT docs, batch ${o.batchSize}, PostgreSQL ${o.pg.version}`,
    columns: [
      'source',
      'run',
      'docs',
      'seconds',
      'docs/s',
      'MB/s',
      'peak RSS MB',
      'CPU s',
      'PostgreSQL CPU s',
      '× read ceiling',
      '× COPY ceiling',
    ],
    rows: measured.map((m) => {
      const docsPerSecond = rate(m);
      const bytes = feedBytes.get(`${m.source}-${m.size}`) ?? feedBytes.get(`replay-${m.size}`) ?? 0;
      const read = ceilingRate(m, 'read');
      const copy = ceilingRate(m, 'copy');
      const isCeiling = m.run.includes('ceiling');
      const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
      const run = m.runs > 1 ? `${m.run} — median of ${m.runs} (${fmt(m.range[0])}–${fmt(m.range[1])} docs/s)` : m.run;
      return [
        m.source,
        run,
        m.docs,
        m.seconds,
        docsPerSecond,
        bytes / MB / m.seconds,
        m.maxRssMb,
        m.cpuSeconds,
        m.pgCpuSeconds,
        !isCeiling && read ? docsPerSecond / read : null,
        !isCeiling && copy ? docsPerSecond / copy : null,
      ];
    }),
    notes: [
      'replay = a local HTTP server replaying the generated `_changes` feed from disk (CouchDB-style opaque string seqs, `seq: null` under `seq_interval`, `pending`): not the bottleneck.',
      'pouchdb-server = the npm CouchDB-protocol server on leveldb, seeded with the same documents: single-threaded, it is the bottleneck of any run against it.',
      "MB/s counts the `_changes` JSON bytes of the feed. Peak RSS and CPU are those of the measuring child process (the source runs in another process); PostgreSQL CPU is that of the server's processes during the run (when the server is on this host).",
      "Before each run, the earlier runs' tables are dropped, a CHECKPOINT is taken and autovacuum is let finish, so no run pays for another.",
      'ceiling a = paging the same feed and parsing it, writing nothing; ceiling b = one COPY of the same documents into a table with the raw layout and indexes.',
      "syncOnce → PostgreSQL = the engine's sync in a measuring child, timed from its start to its end (steady state). The bin = `cht-sync sync --once` bundled as `npm run build` does, in its own process with a fresh data folder and schema, timed from spawn to exit: a user's time, start-up, the store and preflight included; its CPU and peak RSS are the process's own (process.resourceUsage at exit).",
      "our streaming reader = app/couch's ChangesSource + the batcher (rows cut out of the byte stream, each doc kept as the text received); nano's changes call = `db.changes({limit, seq_interval, include_docs})` paged the same way (each page fetched and parsed whole, each doc serialised once as storing it needs).",
      'COPY to staging + upsert = per batch, COPY into a temp table and one INSERT … SELECT DISTINCT ON (_id) … ON CONFLICT, one transaction: the PostgreSQL cost of an idempotent sink, shown for reference.',
      'naive = a couch2pg-like loop written here (the strategy of cht-sync 2.0.2: strictly alternating fetch and write, a new connection per batch, one multi-row INSERT … ON CONFLICT (_id) per batch, keyed on _id alone), with the four databases in parallel. It is not cht-sync itself: cht-sync 2.0.2 measured ~1,950 docs/s against pouchdb-server on this machine type (shared/reference/machine-notes.md).',
    ],
  };
  return {
    section: 'sync',
    tables: [table],
    checks,
    data: { measured, sizes: o.sizes, seed: o.seed, batchSize: o.batchSize, postgres: o.pg.label },
  };
}
