/**
 * The product's bin as a user runs it: `app/cli/main.ts` bundled as `npm run build` does
 * (resources/scripts/cli-bundle.mjs), then
 * `cht-sync sync --once` in a process of its own, timed from spawn to exit — start-up (loading the
 * bundle, opening the store, preflight) included, as a user's time is. A preload reports the
 * process's own CPU seconds and peak RSS at exit (exit-report.mjs), and /proc is sampled every
 * 250 ms for the RSS profile of a long run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliBundleOptions } from '../../resources/scripts/cli-bundle.mjs';

export async function bundleCli(): Promise<string> {
  const out = path.resolve('node_modules/.cache/cht-sync-bench/cli.cjs');
  const { build } = await import('esbuild');
  await build(cliBundleOptions(out));
  return out;
}

export interface CliRun {
  /** Spawn to exit. */
  seconds: number;
  /** The process's own user + system CPU seconds (from the exit report; null if it did not write one). */
  cpuSeconds: number | null;
  /** Peak RSS: the kernel's maxRSS at exit, or the highest /proc sample. */
  maxRssMb: number;
  /** RSS samples (MB) every 250 ms. */
  rss: number[];
  code: number | null;
  stderr: string;
}

function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** One `cht-sync sync --once` of the given databases, in its own process and (given) data folder. */
export function cliSyncOnce(
  bin: string,
  o: {
    couchUrl: string;
    username?: string;
    password?: string;
    pgUrl: string;
    schema: string;
    dataDir: string;
    databases: readonly string[];
  },
): Promise<CliRun> {
  const reportDir = mkdtempSync(path.join(os.tmpdir(), 'cht-sync-exit-'));
  const reportFile = path.join(reportDir, 'report.json');
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(path.resolve('test/bench/exit-report.mjs')).href,
        bin,
        'sync',
        '--once',
        '--couch-url',
        o.couchUrl,
        '--postgres-url',
        o.pgUrl,
        '--schema',
        o.schema,
        '--data-dir',
        o.dataDir,
        '--databases',
        o.databases.join(','),
        '--json',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          ...process.env,
          CHT_SYNC_BENCH_EXIT_REPORT: reportFile,
          ...(o.username ? { COUCHDB_USER: o.username, COUCHDB_PASSWORD: o.password ?? '' } : {}),
        },
      },
    );
    const rss: number[] = [];
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setInterval(() => {
      const r = child.pid ? rssMb(child.pid) : null;
      if (r !== null) rss.push(Math.round(r));
    }, 250);
    child.on('exit', (code) => {
      const seconds = (performance.now() - started) / 1000;
      clearInterval(timer);
      let report: { cpuSeconds?: number; maxRssMb?: number } = {};
      try {
        report = JSON.parse(readFileSync(reportFile, 'utf8')) as typeof report;
      } catch {
        // no report: the process died before its exit handlers ran
      }
      rmSync(reportDir, { recursive: true, force: true });
      resolve({
        seconds,
        cpuSeconds: report.cpuSeconds ?? null,
        maxRssMb: Math.max(report.maxRssMb ?? 0, ...rss),
        rss,
        code,
        stderr,
      });
    });
  });
}
