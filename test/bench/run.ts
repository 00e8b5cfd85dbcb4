/**
 * `npm run bench` — the benchmark behind the README's figures.
 *   node --import tsx test/bench/run.ts [--docs 100000[,1000000]] [--seed N] [--no-pouch] [--no-naive]
 *                                       [--batch 1000] [--repeat 3] [--only sync,field,transform,responsive]
 *                                       [--field-docs 3000] [--field-links fast]
 * Sections live in their own files (sync-bench.ts; a transform section can be added the same way:
 * a function returning BenchSectionResult, registered in SECTIONS). Output: Markdown tables on
 * stdout, test-results/bench.json and test-results/bench.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchPostgres, type BenchPostgres } from './pg-target';
import { printReport, type BenchSectionResult } from './report';
import { FIELD_LINKS, runFieldBench } from './field-bench';
import { runResponsiveBench } from './responsive-bench';
import { runSyncBench } from './sync-bench';
import { runServicesBench } from './services-bench';
import { runTransformBench } from './transform-bench';

export interface BenchContext {
  args: Record<string, string | boolean | undefined>;
  sizes: number[];
  seed: number;
  workDir: string;
  pg: BenchPostgres;
  log: (message: string) => void;
}

type Section = (ctx: BenchContext) => Promise<BenchSectionResult>;

const SECTIONS: Record<string, Section> = {
  transform: (ctx) => runTransformBench(ctx),
  responsive: (ctx) => runResponsiveBench(ctx),
  sync: (ctx) =>
    runSyncBench({
      sizes: ctx.sizes,
      seed: ctx.seed,
      // 1M docs into pouchdb-server alone takes ~7 minutes to seed: only with --pouch
      pouch: ctx.args['no-pouch'] !== true && (ctx.args.pouch === true || (ctx.sizes[0] ?? 0) <= 200_000),
      naive: ctx.args['no-naive'] !== true,
      batchSize: Number(ctx.args.batch ?? 1000),
      repeat: Math.max(1, Number(ctx.args.repeat ?? 3)),
      workDir: ctx.workDir,
      pg: ctx.pg,
      log: ctx.log,
    }),
  services: (ctx) => runServicesBench(ctx),
  field: (ctx) =>
    runFieldBench({
      docs: Number(ctx.args['field-docs'] ?? 3000),
      seed: ctx.seed,
      batchSize: Number(ctx.args.batch ?? 1000),
      links: ctx.args['field-links'] === 'fast' ? FIELD_LINKS.slice(0, 1) : FIELD_LINKS,
      pg: ctx.pg,
      log: ctx.log,
    }),
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      docs: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '20261128' },
      batch: { type: 'string', default: '1000' },
      repeat: { type: 'string', default: '3' },
      only: { type: 'string' },
      pouch: { type: 'boolean' },
      'no-pouch': { type: 'boolean' },
      'no-naive': { type: 'boolean' },
      'field-docs': { type: 'string', default: '3000' },
      'field-links': { type: 'string' },
      'services-docs': { type: 'string', default: '30000' },
      'solo-docs': { type: 'string', default: '100000' },
    },
  });
  const sizes = (values.docs ?? '100000').split(',').map((s) => Number(s.replace(/_/g, '')));
  if (sizes.some((s) => !Number.isInteger(s) || s < 100))
    throw new Error('--docs takes sizes of at least 100, e.g. --docs 100000,1000000');
  const only = values.only ? values.only.split(',') : Object.keys(SECTIONS);
  const started = Date.now();
  const log = (message: string): void =>
    console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'cht-bench-'));
  const pg = await benchPostgres();
  log(`PostgreSQL: ${pg.label}`);
  const results: BenchSectionResult[] = [];
  try {
    for (const name of only) {
      const section = SECTIONS[name];
      if (!section) throw new Error(`unknown section ${name}; known: ${Object.keys(SECTIONS).join(', ')}`);
      results.push(await section({ args: values, sizes, seed: Number(values.seed), workDir, pg, log }));
    }
  } finally {
    await pg.close().catch((e: unknown) => console.error(e));
    rmSync(workDir, { recursive: true, force: true });
  }
  printReport(results, {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGb: Math.round(os.totalmem() / 1e9),
    loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 10) / 10),
    postgres: pg.label,
    seconds: (Date.now() - started) / 1000,
  });
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return results.every((r) => r.checks.every((c) => c.pass)) ? 0 : 2;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
