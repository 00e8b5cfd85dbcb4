/**
 * `npm run bench -- --only services`: several `cht-sync` services — one per CHT instance —
 * writing into one PostgreSQL schema at once. Each instance is a replay server of its own data
 * set on a loopback address of its own (127.0.0.N: sources are host/db, as for real instances).
 *
 *  1. one service alone (`cht-sync sync --once`, the product's bin bundled as `npm run build`
 *     does): docs/s, its RSS sampled every 250 ms from /proc (the memory profile of a long sync);
 *  2. three at once into a fresh schema: docs/s of each, total docs/s over the slowest's time,
 *     PostgreSQL's CPU seconds (all of this host's postgres processes: other users count too).
 * Check: every (source, _id) exactly once in <schema>.couchdb_all.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { CHT_DATABASES, generateChtDocs } from '../../app/generator';
import { postgresCpuReader, settlePostgres } from './postgres-cpu';
import { bundleCli, cliSyncOnce } from './cli-process';
import type { BenchSectionResult } from './report';
import { startReplayServer, writeReplayFiles, type ReplayServer } from './replay-server';
import type { BenchContext } from './run';

const SERVICES = 3;

interface ServiceRun {
  service: string;
  docs: number;
  seconds: number;
  maxRssMb: number;
  /** RSS samples (MB) every 250 ms. */
  rss: number[];
  code: number | null;
}

/** One `cht-sync sync --once` of every database of one instance, in its own process and data folder. */
async function syncOnce(
  bin: string,
  o: { service: string; couchUrl: string; pgUrl: string; schema: string; dataDir: string; docs: number },
): Promise<ServiceRun> {
  const run = await cliSyncOnce(bin, { ...o, databases: CHT_DATABASES });
  if (run.code !== 0) console.error(run.stderr.slice(-2000));
  return {
    service: o.service,
    docs: o.docs,
    seconds: run.seconds,
    maxRssMb: run.maxRssMb,
    rss: run.rss,
    code: run.code,
  };
}

export async function runServicesBench(ctx: BenchContext): Promise<BenchSectionResult> {
  const perService = Number(ctx.args['services-docs'] ?? 30_000);
  const soloDocs = Number(ctx.args['solo-docs'] ?? 100_000);
  const bin = await bundleCli();
  const pgCpu = postgresCpuReader(ctx.pg.url);
  const servers: ReplayServer[] = [];
  const checks: BenchSectionResult['checks'] = [];
  try {
    // One data set per instance (different seeds: different ids), served from 127.0.0.1 … 127.0.0.3.
    const totals: number[] = [];
    for (let i = 0; i < SERVICES; i++) {
      ctx.log(`services bench: instance ${i + 1}: ${perService.toLocaleString('en-US')} generated docs`);
      let n = 0;
      mkdirSync(path.join(ctx.workDir, `instance-${i}`), { recursive: true });
      const files = await writeReplayFiles(
        path.join(ctx.workDir, `instance-${i}`),
        generateChtDocs({ seed: ctx.seed + i, docs: perService }),
        () => {
          n++;
          return undefined;
        },
      );
      totals.push(n);
      servers.push(await startReplayServer(files, { host: `127.0.0.${i + 1}` }));
    }
    ctx.log(`services bench: the long single sync: ${soloDocs.toLocaleString('en-US')} docs`);
    let soloTotal = 0;
    mkdirSync(path.join(ctx.workDir, 'solo'), { recursive: true });
    const soloFiles = await writeReplayFiles(
      path.join(ctx.workDir, 'solo'),
      generateChtDocs({ seed: ctx.seed + 100, docs: soloDocs }),
      () => {
        soloTotal++;
        return undefined;
      },
    );
    const soloServer = await startReplayServer(soloFiles, { host: '127.0.0.9' });
    servers.push(soloServer);

    // 1. one service alone, over the long set
    await settlePostgres(ctx.pg.url, []);
    let before = pgCpu?.() ?? 0;
    const solo = await syncOnce(bin, {
      service: 'alone',
      couchUrl: soloServer.url,
      pgUrl: ctx.pg.url,
      schema: 'solo',
      dataDir: path.join(ctx.workDir, 'data-solo'),
      docs: soloTotal,
    });
    await new Promise((r) => setTimeout(r, 300));
    const soloPgCpu = pgCpu ? pgCpu() - before : null;
    ctx.log(
      `  → alone: ${Math.round(solo.docs / solo.seconds)} docs/s, ${solo.seconds.toFixed(1)} s, RSS max ${solo.maxRssMb} MB`,
    );

    // 2. three services into one schema at once
    await settlePostgres(ctx.pg.url, ['solo']);
    before = pgCpu?.() ?? 0;
    const started = performance.now();
    const runs = await Promise.all(
      servers.slice(0, SERVICES).map((server, i) =>
        syncOnce(bin, {
          service: `instance ${i + 1}`,
          couchUrl: server.url,
          pgUrl: ctx.pg.url,
          schema: 'shared',
          dataDir: path.join(ctx.workDir, `data-${i}`),
          docs: totals[i]!,
        }),
      ),
    );
    const wall = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 300));
    const sharedPgCpu = pgCpu ? pgCpu() - before : null;
    const total = totals.reduce((a, b) => a + b, 0);
    ctx.log(
      `  → three at once: ${Math.round(total / wall)} docs/s in all over ${wall.toFixed(1)} s${sharedPgCpu === null ? '' : `, PostgreSQL ${sharedPgCpu.toFixed(1)} CPU s`}`,
    );

    const client = new pg.Client({ connectionString: ctx.pg.url });
    await client.connect();
    try {
      const rows = Number(
        (await client.query<{ n: string }>('select count(*) as n from shared.couchdb_all')).rows[0]?.n ?? 0,
      );
      const dupes = Number(
        (
          await client.query<{ n: string }>(
            'select count(*) as n from (select source, _id from shared.couchdb_all group by 1, 2 having count(*) > 1) d',
          )
        ).rows[0]?.n ?? 0,
      );
      checks.push({
        name: 'three services: every (source, _id) exactly once',
        pass: rows === total && dupes === 0,
        detail: `${rows.toLocaleString('en-US')} rows for ${total.toLocaleString('en-US')} changes, ${dupes} duplicates`,
      });
    } finally {
      await client.end();
    }
    checks.push({
      name: 'every service exits 0',
      pass: [solo, ...runs].every((r) => r.code === 0),
      detail: [solo, ...runs].map((r) => `${r.service}: ${r.code}`).join(', '),
    });
    const steady = solo.rss.slice(Math.floor(solo.rss.length / 4));
    checks.push({
      name: 'memory of one service flat and ≤ 250 MB over a long sync',
      pass: solo.maxRssMb <= 250,
      detail: `RSS ${Math.min(...steady)}–${Math.max(...steady)} MB after the first quarter, peak ${solo.maxRssMb} MB (${solo.rss.length} samples over ${solo.seconds.toFixed(0)} s)`,
    });

    const row = (r: ServiceRun, pgSeconds: number | null) => [
      r.service,
      r.docs,
      r.seconds,
      Math.round(r.docs / r.seconds),
      r.maxRssMb,
      pgSeconds === null ? null : Math.round((pgSeconds / r.seconds) * 100) / 100,
    ];
    return {
      section: 'services',
      tables: [
        {
          title: `Services into one PostgreSQL schema (sync --once of 4 databases each; replay sources; ${SERVICES} × ${perService.toLocaleString('en-US')} and 1 × ${soloDocs.toLocaleString('en-US')} generated docs)`,
          columns: ['service', 'changes', 's', 'docs/s', 'peak RSS MB', 'PostgreSQL cores busy'],
          rows: [
            row(solo, soloPgCpu),
            ...runs.map((r) => [r.service, r.docs, r.seconds, Math.round(r.docs / r.seconds), r.maxRssMb, null]),
            [
              'three at once, in all',
              total,
              wall,
              Math.round(total / wall),
              null,
              sharedPgCpu === null ? null : Math.round((sharedPgCpu / wall) * 100) / 100,
            ],
          ],
          notes: [
            'PostgreSQL cores busy: CPU seconds of every postgres process on this host during the run ÷ its wall time (other users of the server count too).',
            `RSS of the long sync, sampled every 250 ms (MB): ${solo.rss.filter((_, i) => i % Math.max(1, Math.floor(solo.rss.length / 24)) === 0).join(' ')}`,
          ],
        },
      ],
      checks,
      data: { solo, runs, wall, total, soloPgCpu, sharedPgCpu, soloRss: solo.rss },
    };
  } finally {
    for (const s of servers) await s.close().catch(() => undefined);
  }
}
