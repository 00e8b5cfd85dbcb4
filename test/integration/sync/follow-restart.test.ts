import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { syncFollow } from '../../../app/engine/sync-wiring';
import type { SyncEvent } from '../../../app/sync/types';
import { createTestDatabase } from '../../support/postgres';
import { startPouchServer, type PouchServer } from '../../support/pouchdb-server';
import { assertSameAsCouch, couchRequest, loadFixtures, memoryCheckpoints, newPool } from './helpers';

const DBS = ['medic', 'medic-sentinel', 'medic-users-meta', '_users'];

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('following live while CouchDB goes down and comes back', () => {
  let couch: PouchServer;
  let pgDb: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;

  before(async () => {
    couch = await startPouchServer({ inMemory: false });
    await loadFixtures(couch.url);
    pgDb = await createTestDatabase('sync_follow');
    pool = newPool(pgDb.url);
  });
  after(async () => {
    await pool?.end();
    await pgDb?.drop();
    await couch?.stop();
  });

  it('backs off while the server is down, reconnects, and carries on from the saved seq', async () => {
    const controller = new AbortController();
    const events: SyncEvent[] = [];
    const running = syncFollow({
      couch: { url: couch.url, username: couch.username, password: couch.password },
      databases: DBS,
      pool,
      schema: 'v1',
      table: 'couchdb',
      batchSize: 100,
      maxBatchBytes: 1 << 24,
      checkpoints: memoryCheckpoints(),
      logger: silentLogger,
      signal: controller.signal,
      heartbeatMs: 1000,
      quietMs: 50,
      retryPolicy: { maxAttempts: Number.POSITIVE_INFINITY, downBaseMs: 200, slowBaseMs: 200, maxDelayMs: 1000 },
      onEvent: (e) => events.push(e),
    });
    const medicStates = (): string[] =>
      events
        .filter((e) => e.type === 'state' && e.database === 'medic')
        .map((e) => (e.type === 'state' ? e.state.kind : ''));
    await waitFor('medic live', () => medicStates().includes('live'));

    await couch.restart();
    await waitFor('medic backing off then live again', () => {
      const s = medicStates();
      const off = s.indexOf('backing-off');
      return off > 0 && s.slice(off).includes('live');
    });
    const backingOff = events.find(
      (e) => e.type === 'state' && e.database === 'medic' && e.state.kind === 'backing-off',
    );
    assert.equal(backingOff?.type === 'state' && backingOff.state.error?.code, 'COUCH_UNREACHABLE');

    assert.equal(
      (await couchRequest(couch.url, 'PUT', '/medic/after-restart', { type: 'person', name: 'back' })).status,
      201,
    );
    await waitFor(
      'the new doc',
      async () => (await pool.query("select 1 from v1.couchdb where _id = 'after-restart'")).rowCount === 1,
    );
    controller.abort();
    const result = await running;
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases.map((d) => [d.database, d.outcome, d.error])));
    await assertSameAsCouch(pool, couch.url, DBS, '127.0.0.1');
  });
});
