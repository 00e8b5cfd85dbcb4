import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../app/core/logger';
import { createEngine } from '../../../app/engine/create-engine';
import { createInProcessClient } from '../../../app/host/in-process-client';
import { freePort } from '../../../app/postgres/embedded';
import type { SavedSettings } from '../../../app/store';
import { adminHeaders } from '../../support/pouchdb-server';
import { createTestDatabase, uniqueName } from '../../support/postgres';

const couchAdminUrl = process.env.CHT_SYNC_TEST_COUCH_ADMIN_URL ?? '';
const couchUrl = process.env.CHT_SYNC_TEST_COUCH_URL ?? '';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, f: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('desktop schedule', { skip: !couchAdminUrl && 'needs test services' }, () => {
  it('syncs every interval while online, skips while offline, and pause/resume stop and restart it', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-schedule-'));
    const database = await createTestDatabase('schedule');
    const db = uniqueName('medic').toLowerCase();
    const headers = adminHeaders();
    assert.ok((await fetch(`${couchUrl}/${db}`, { method: 'PUT', headers })).ok);
    assert.ok((await fetch(`${couchUrl}/${db}/doc-1`, { method: 'PUT', headers, body: '{"type":"person"}' })).ok);
    const admin = new URL(couchAdminUrl);
    const base = {
      dataDir,
      postgres: { kind: 'external' as const, url: database.url },
      schema: 'v1',
      table: 'couchdb',
      batchSize: 1000,
      maxBatchBytes: 16 * 1024 * 1024,
      pipeline: { kind: 'bundled' as const },
      transform: { threads: 1, batchSize: null, selector: null, intervalSeconds: 0 },
    };
    const resolve = (saved: SavedSettings) => ({
      ...base,
      couch: saved.couch.url
        ? {
            url: saved.couch.url,
            ...(saved.couch.username ? { username: saved.couch.username } : {}),
            databases: saved.couch.databases,
          }
        : null,
    });
    const engine = await createEngine({
      dataDir,
      config: { ...base, couch: null },
      logger: silentLogger,
      host: 'in-process',
      resolveConfig: resolve,
      minuteMs: 250,
    });
    const client = createInProcessClient(engine);
    const scheduled = async (): Promise<number> =>
      (await client.invoke('runs.list', { kind: 'sync' })).filter((r) => r.trigger === 'schedule').length;
    try {
      await client.invoke('setup.complete', {
        couch: {
          url: couchUrl,
          username: decodeURIComponent(admin.username),
          password: decodeURIComponent(admin.password),
          databases: [db],
        },
        schedule: { kind: 'interval', minutes: 1 },
      });
      engine.startDaemon({ follow: false, transforms: false });
      await until('two scheduled runs', async () => (await scheduled()) >= 2);
      const runs = await client.invoke('runs.list', { kind: 'sync' });
      assert.ok(runs.every((r) => r.outcome === 'done' || r.outcome === 'running'));

      const paused = await client.invoke('sync.pause', {});
      assert.ok(paused.every((s) => s.state.kind === 'paused'));
      await sleep(100);
      const atPause = await scheduled();
      await sleep(700);
      assert.equal(await scheduled(), atPause, 'no scheduled run while paused');
      const resumed = await client.invoke('sync.resume', {});
      assert.ok(resumed.every((s) => s.state.kind !== 'paused'));
      await until('a scheduled run after resume', async () => (await scheduled()) > atPause);

      // Offline: nothing listens at the address; the schedule waits instead of recording failures.
      await client.invoke('settings.update', { couch: { url: `http://127.0.0.1:${await freePort()}` } });
      await until(
        'the offline state',
        async () => (await client.invoke('sync.status', {}))[0]?.state.kind === 'backing-off',
      );
      const beforeOffline = await scheduled();
      await sleep(1200);
      assert.equal(await scheduled(), beforeOffline, 'no runs recorded while offline');
      const status = await client.invoke('sync.status', {});
      assert.equal(status[0]?.state.kind, 'backing-off');
      assert.equal(status[0]?.state.error?.code, 'COUCH_UNREACHABLE');
    } finally {
      await engine.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
