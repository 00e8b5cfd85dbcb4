import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { silentLogger } from '../../app/core/logger';
import { generateChtDocs } from '../../app/generator';
import { ensureRawSchema } from '../../app/postgres/raw-schema';
import { bundledPipelinePath, runTransform } from '../../app/transform';
import { ProjectCompiler } from '../../app/transform/compile/project-compiler';
import { buildGraph } from '../../app/transform/graph/build-graph';
import { getRelation } from '../../app/transform/materialize/catalog';
import { wrapClient } from '../../app/transform/materialize/pg-session';
import { loadProject } from '../../app/transform/project/load-project';
import type { BenchSectionResult } from './report';
import type { BenchContext } from './run';

/**
 * Transform figures: (1) engine overhead — load + parse + compile of the bundled pipeline
 * (a dbt invocation spends seconds before its first query); (2) incremental cost — the full
 * build over N generated documents, then an incremental run after 1k more, and their ratio.
 */
async function loadDocs(
  pool: pg.Pool,
  schema: string,
  docs: Iterable<{ database: string; doc: Record<string, unknown> }>,
  limit: number,
): Promise<number> {
  let batch: unknown[] = [];
  let n = 0;
  const flush = async (): Promise<void> => {
    if (!batch.length) return;
    // One saved_timestamp per batch of 1000, as the sync writes it.
    await pool.query(
      `insert into "${schema}".couchdb (saved_timestamp, _id, _deleted, source, doc)
       select distinct on (d->'doc'->>'_id') clock_timestamp(), d->'doc'->>'_id', coalesce((d->'doc'->>'_deleted')::boolean, false), 'bench/' || (d->>'database'), d->'doc'
         from jsonb_array_elements($1::jsonb) with ordinality as e(d, i)
        order by d->'doc'->>'_id', i desc
       on conflict (_id) do update set saved_timestamp = excluded.saved_timestamp, _deleted = excluded._deleted, doc = excluded.doc`,
      // PostgreSQL text cannot hold NUL: the sync strips it the same way.
      [JSON.stringify(batch, (_k, v: unknown) => (typeof v === 'string' ? v.split('\u0000').join('') : v))],
    );
    batch = [];
  };
  for (const d of docs) {
    if (n >= limit) break;
    batch.push(d);
    n++;
    if (batch.length >= 1000) await flush();
  }
  await flush();
  return n;
}

export async function runTransformBench(ctx: BenchContext): Promise<BenchSectionResult> {
  const dbName = new URL(ctx.pg.url).pathname.slice(1);
  const pool = new pg.Pool({ connectionString: ctx.pg.url, max: 4 });
  const cacheDir = mkdtempSync(path.join(ctx.workDir, 'transform-cache-'));
  const checks: BenchSectionResult['checks'] = [];
  const rows: (string | number | null)[][] = [];
  try {
    // 1. Overhead: median of 5 cold-ish loads + parse + compile (against an empty schema).
    await ensureRawSchema(pool, 'tbo', 'couchdb');
    const overhead: number[] = [];
    let models = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const project = await loadProject(
        { kind: 'path', path: bundledPipelinePath() },
        { cacheDir, logger: silentLogger },
      );
      const compiler = new ProjectCompiler({
        project,
        target: {
          name: 'default',
          schema: 'tbo',
          database: dbName,
          type: 'postgres',
          threads: 1,
          user: 'postgres',
          host: 'localhost',
          port: 5432,
          dbname: dbName,
        },
        env: { POSTGRES_SCHEMA: 'tbo', POSTGRES_TABLE: 'couchdb', POSTGRES_DB: dbName },
        cliVars: {},
        invocationId: 'bench',
        runStartedAt: new Date().toISOString(),
        fullRefresh: false,
        logger: silentLogger,
      });
      const graph = buildGraph(await compiler.parseModels());
      const client = await pool.connect();
      try {
        const session = wrapClient(client, silentLogger);
        for (const id of graph.order) {
          const node = graph.nodes.get(id)!;
          const relation = compiler.relationFor(node);
          await getRelation(session, dbName, relation.schema ?? 'tbo', relation.identifier);
          await compiler.compile({ node, session, relation, isIncremental: false, fullRefresh: false });
        }
      } finally {
        client.release();
      }
      models = graph.order.length;
      overhead.push(performance.now() - t0);
    }
    overhead.sort((a, b) => a - b);
    const median = overhead[2]!;
    ctx.log(`transform: load + parse + compile of ${models} models: ${median.toFixed(0)} ms (median of 5)`);
    checks.push({
      name: 'load + parse + compile well under a second',
      pass: median < 500,
      detail: `${median.toFixed(0)} ms for ${models} models`,
    });

    // 2. Incremental cost for each size.
    for (const size of ctx.sizes) {
      const schema = `tb${size}`;
      await ensureRawSchema(pool, schema, 'couchdb');
      const all = generateChtDocs({ seed: ctx.seed, docs: size + 1000 })[Symbol.iterator]();
      const first = { [Symbol.iterator]: () => all };
      const t0 = performance.now();
      await loadDocs(pool, schema, first, size);
      ctx.log(`transform: ${size} docs loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const opts = {
        project: { kind: 'bundled' as const },
        cacheDir,
        pool,
        database: dbName,
        schema,
        table: 'couchdb',
        logger: silentLogger,
        threads: 2,
      };
      let t = performance.now();
      const full = await runTransform(opts);
      const fullS = (performance.now() - t) / 1000;
      await loadDocs(pool, schema, first, 1000);
      t = performance.now();
      const inc = await runTransform({ ...opts, previousFingerprints: full.fingerprints });
      const incS = (performance.now() - t) / 1000;
      const ratio = incS / fullS;
      ctx.log(
        `transform: ${size} docs: full build ${fullS.toFixed(1)} s (${full.result.outcome}), +1k incremental ${incS.toFixed(2)} s (${inc.result.outcome}), ratio ${ratio.toFixed(3)}`,
      );
      const slowest = [...inc.result.models]
        .sort((a, b) => b.seconds - a.seconds)
        .slice(0, 4)
        .map((m) => `${m.model} ${m.seconds.toFixed(2)} s`);
      ctx.log(`transform: slowest incremental models: ${slowest.join(', ')}`);
      // `cht-sync dbt build`: every node kind (seeds, snapshots, models, tests) in DAG order with test gating.
      t = performance.now();
      const build = await runTransform({
        ...opts,
        resourceTypes: ['model', 'seed', 'snapshot', 'test', 'unit_test'],
        build: true,
        previousFingerprints: inc.fingerprints,
      });
      const buildS = (performance.now() - t) / 1000;
      ctx.log(
        `transform: ${size} docs: dbt build (incremental, ${build.result.models.length} nodes) ${buildS.toFixed(2)} s (${build.result.outcome})`,
      );
      rows.push([
        size,
        fullS,
        incS,
        ratio,
        buildS,
        `${full.result.outcome}/${inc.result.outcome}/${build.result.outcome}`,
      ]);
      checks.push({
        name: `incremental after 1k on ${size} is a small fraction of the full build`,
        pass: ratio < 0.25 && full.result.outcome === 'done' && inc.result.outcome === 'done',
        detail: `${incS.toFixed(2)} s vs ${fullS.toFixed(1)} s (${(ratio * 100).toFixed(1)} %)`,
      });
    }
    // 3. dbt-utils' integration_tests, when a local checkout is named (never fetched by the bench).
    const dbtUtils = process.env.CHT_SYNC_BENCH_DBT_UTILS;
    const extra: { title: string; columns: string[]; rows: (string | number | null)[][]; notes: string[] }[] = [];
    if (dbtUtils) {
      const t = performance.now();
      const out = await runTransform({
        project: { kind: 'path', path: dbtUtils },
        cacheDir,
        pool,
        database: dbName,
        schema: 'dbt_utils_it',
        table: 'couchdb',
        logger: silentLogger,
        threads: 2,
        resourceTypes: ['model', 'seed', 'snapshot', 'test', 'unit_test'],
        build: true,
      });
      const s = (performance.now() - t) / 1000;
      const pass = out.result.models.filter((m) => m.status === 'success' || m.status === 'pass').length;
      ctx.log(
        `transform: dbt-utils integration_tests dbt build: PASS=${pass} of ${out.result.models.length} in ${s.toFixed(2)} s`,
      );
      extra.push({
        title: 'dbt-utils integration_tests: dbt build',
        columns: ['nodes', 'PASS', 'seconds'],
        rows: [[out.result.models.length, pass, s]],
        notes: ['threads 2; dbt-core 1.10 + dbt-postgres on the same machine: PASS=237 in ~25 s.'],
      });
      checks.push({
        name: 'dbt-utils integration_tests: every node passes',
        pass: pass === out.result.models.length && pass > 0,
        detail: `PASS=${pass} of ${out.result.models.length}`,
      });
    }
    return {
      section: 'transform',
      tables: [
        {
          title: 'Transform engine overhead (bundled pipeline)',
          columns: ['models', 'load + parse + compile (ms, median of 5)'],
          rows: [[models, median]],
          notes: ['Compile includes the relation lookup per model on a live connection.'],
        },
        {
          title: 'Bundled pipeline: full build vs incremental run after 1,000 new documents, then dbt build',
          columns: ['documents', 'full build (s)', 'incremental (s)', 'ratio', 'dbt build (s)', 'outcomes'],
          rows,
          notes: [
            'threads 2; one saved_timestamp per 1,000-document batch, as the sync writes it.',
            'dbt build: every node kind with test gating, after the incremental run (CHT_SYNC_BENCH_DBT_UTILS=<dbt-utils>/integration_tests adds that project).',
          ],
        },
        ...extra,
      ],
      checks,
      data: { overheadMs: overhead, sizes: rows },
    };
  } finally {
    await pool.end();
  }
}
