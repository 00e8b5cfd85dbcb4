import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { memoryLogger } from '../../../app/core/logger';
import { generateChtDocs, seedCouch } from '../../../app/generator';
import {
  removeEmbeddedCluster,
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
} from '../../../app/postgres/embedded';
import { syncOnce } from '../../../app/engine/sync-wiring';
import { startPouchServer, type PouchServer } from '../../support/pouchdb-server';
import { assertSameAsCouch, memoryCheckpoints, newPool } from './helpers';

const DBS = ['medic', 'medic-sentinel', 'medic-users-meta', '_users'];

describe('PostgreSQL restarted during a run (embedded PostgreSQL, stopped and started again)', () => {
  let couch: PouchServer;
  let dataDir: string;
  let postgres: EmbeddedPostgresHandle;
  let pool: pg.Pool;

  before(async () => {
    couch = await startPouchServer();
    await seedCouch(
      couch.url,
      { username: couch.username, password: couch.password },
      generateChtDocs({ seed: 3, docs: 2000 }),
    );
    dataDir = mkdtempSync(path.join(tmpdir(), 'cht-sync-restart-'));
    postgres = await startEmbeddedPostgres(dataDir);
    pool = newPool(postgres.url);
  });
  after(async () => {
    await pool?.end().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    if (postgres) removeEmbeddedCluster(postgres.clusterDir);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await couch?.stop();
  });

  it('batches in flight are retried after the restart; the result is exact', async () => {
    let batches = 0;
    let restarting: Promise<void> | null = null;
    const logger = memoryLogger();
    const result = await syncOnce({
      couch: { url: couch.url, username: couch.username, password: couch.password },
      databases: DBS,
      pool,
      schema: 'v1',
      table: 'couchdb',
      batchSize: 50,
      maxBatchBytes: 1 << 24,
      checkpoints: memoryCheckpoints(),
      logger,
      retryPolicy: { maxAttempts: 8, downBaseMs: 200, slowBaseMs: 200, maxDelayMs: 2000 },
      onEvent: (e) => {
        if (e.type === 'batch' && ++batches === 5) {
          restarting = (async () => {
            await postgres.stop();
            postgres = await startEmbeddedPostgres(dataDir);
          })();
        }
      },
    });
    await restarting;
    assert.ok(batches > 5);
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases.map((d) => d.error)));
    assert.ok(
      logger.entries.some((e) => /retrying/.test(e.message)),
      'something was retried',
    );
    await assertSameAsCouch(pool, couch.url, DBS, '127.0.0.1');
  });
});
