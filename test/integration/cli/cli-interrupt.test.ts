import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import type { SyncRunResult } from '../../../app/contract/dto';
import { generateChtDocs, seedCouch } from '../../../app/generator';
import { createTestDatabase } from '../../support/postgres';
import { startPouchServer, type PouchServer } from '../../support/pouchdb-server';
import { assertSameAsCouch, newPool } from '../sync/helpers';
import { cliBundleOptions } from '../../../resources/scripts/cli-bundle.mjs';

/** Ctrl-C in the middle of `sync --once`: a clean stop (exit 130), then a resume that loses and duplicates nothing. */
const TEST_BUNDLE = path.resolve('node_modules/.cache/cht-sync-test/cli-interrupt.cjs');

describe('cht-sync sync --once interrupted by SIGINT', () => {
  let couch: PouchServer;
  let pgDb: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let dataDir: string;
  let databases: string[];

  before(async () => {
    const { build } = await import('esbuild');
    await build(cliBundleOptions(TEST_BUNDLE));
    couch = await startPouchServer();
    const seeded = await seedCouch(
      couch.url,
      { username: couch.username, password: couch.password },
      generateChtDocs({ seed: 11, docs: 4000 }),
    );
    databases = Object.keys(seeded.counts).filter((db) => db !== '_users');
    pgDb = await createTestDatabase('cli_interrupt');
    pool = newPool(pgDb.url);
    dataDir = mkdtempSync(path.join(tmpdir(), 'cht-cli-int-'));
  });
  after(async () => {
    await pool?.end();
    await pgDb?.drop();
    await couch?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const run = (onStart?: (child: ReturnType<typeof spawn>) => void) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const args = [
        'sync',
        '--once',
        '--json',
        '--batch-size',
        '25',
        '--couch-url',
        couch.url,
        '--postgres-url',
        pgDb.url,
        '--data-dir',
        dataDir,
        '--databases',
        databases.join(','),
      ];
      const child = spawn(process.execPath, [TEST_BUNDLE, ...args], {
        env: { ...process.env, COUCHDB_USER: couch.username, COUCHDB_PASSWORD: couch.password },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
      onStart?.(child);
    });

  it('stops with exit 130 and a cancelled run; the next run completes exactly', async () => {
    const first = await run((child) => {
      // Interrupt once rows are landing, i.e. in the middle of the catch-up.
      const poll = setInterval(() => {
        pool.query<{ n: string }>(`select count(*) as n from v1.couchdb`).then(
          (r) => {
            if (Number(r.rows[0]?.n) > 0) {
              clearInterval(poll);
              child.kill('SIGINT');
            }
          },
          () => undefined,
        );
      }, 50);
      child.on('exit', () => clearInterval(poll));
    });
    assert.equal(first.code, 130, first.stderr + first.stdout);
    assert.match(first.stderr, /stopping cleanly/);
    const cancelled = JSON.parse(first.stdout) as SyncRunResult;
    assert.equal(cancelled.outcome, 'cancelled');
    assert.ok(
      cancelled.databases.some((d) => !d.reachedEnd),
      'it really was stopped before the end',
    );

    const second = await run();
    assert.equal(second.code, 0, second.stderr);
    const done = JSON.parse(second.stdout) as SyncRunResult;
    assert.equal(done.outcome, 'done');
    await assertSameAsCouch(pool, couch.url, databases, '127.0.0.1');
  });
});
