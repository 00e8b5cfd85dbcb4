import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ClientError } from '../../../app/contract';
import { silentLogger } from '../../../app/core/logger';
import { createEngine } from '../../../app/engine/create-engine';
import { createInProcessClient } from '../../../app/host/in-process-client';
import { adminHeaders } from '../../support/pouchdb-server';
import { testPostgresUrl, uniqueName } from '../../support/postgres';

const couchAdminUrl = process.env.CHT_SYNC_TEST_COUCH_ADMIN_URL ?? '';
const couchUrl = process.env.CHT_SYNC_TEST_COUCH_URL ?? '';

describe('setup through the engine (fresh data folder)', { skip: !couchAdminUrl && 'needs test services' }, () => {
  it('tests the server, estimates, saves the setup without exposing the password', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-setup-'));
    const db = uniqueName('medic').toLowerCase();
    const headers = adminHeaders();
    assert.ok((await fetch(`${couchUrl}/${db}`, { method: 'PUT', headers })).ok);
    const docs = Array.from({ length: 25 }, (_v, i) => ({ _id: `doc-${i}`, type: 'person', name: `P${i}` }));
    assert.ok(
      (await fetch(`${couchUrl}/${db}/_bulk_docs`, { method: 'POST', headers, body: JSON.stringify({ docs }) })).ok,
    );
    const admin = new URL(couchAdminUrl);
    const creds = {
      url: couchUrl,
      username: decodeURIComponent(admin.username),
      password: decodeURIComponent(admin.password),
    };
    const engine = await createEngine({
      dataDir,
      config: {
        dataDir,
        couch: null,
        postgres: { kind: 'embedded' },
        schema: 'v1',
        table: 'couchdb',
        batchSize: 1000,
        maxBatchBytes: 16 * 1024 * 1024,
        pipeline: { kind: 'bundled' },
        transform: { threads: 1, batchSize: null, selector: null, intervalSeconds: 5 },
      },
      logger: silentLogger,
      host: 'in-process',
    });
    const client = createInProcessClient(engine);
    try {
      const before = await client.invoke('settings.get', {});
      assert.equal(before.isSetupComplete, false);
      await assert.rejects(
        client.invoke('sync.runNow', {}),
        (e: unknown) => e instanceof ClientError && e.code === 'NOT_CONFIGURED',
      );

      const probe = await client.invoke('setup.testCouch', creds);
      // The shared test server holds many databases; the probe lists a bounded number of them.
      assert.ok(probe.databases.length > 0 && probe.serverVersion.length > 0);
      const estimate = await client.invoke('setup.estimate', { ...creds, databases: [db] });
      assert.equal(estimate.docs, 25);
      assert.ok(estimate.diskBytes > estimate.bytes);
      await assert.rejects(
        client.invoke('setup.estimate', { ...creds, databases: ['medic_sentinel_typo'] }),
        (e: unknown) => e instanceof ClientError && e.code === 'COUCH_DB_MISSING',
      );

      const pg = new URL(testPostgresUrl());
      const external = {
        kind: 'external' as const,
        host: pg.hostname,
        port: Number(pg.port || 5432),
        database: pg.pathname.slice(1) || 'postgres',
        username: decodeURIComponent(pg.username),
        password: decodeURIComponent(pg.password),
        ssl: false,
      };
      const pgProbe = await client.invoke('setup.testPostgres', { postgres: external });
      assert.ok(pgProbe.serverVersion.length > 0);

      // Credentials typed into the URL are split out; the URL kept has none.
      const withCreds = new URL(couchUrl);
      withCreds.username = creds.username;
      withCreds.password = creds.password;
      const view = await client.invoke('setup.complete', {
        couch: { url: withCreds.toString(), databases: [db] },
        schedule: { kind: 'interval', minutes: 30 },
      });
      assert.equal(view.isSetupComplete, true);
      assert.equal(view.couch.url, couchUrl);
      assert.equal(view.couch.username, creds.username);
      assert.equal(view.couch.hasPassword, true);
      assert.deepEqual(view.schedule, { kind: 'interval', minutes: 30 });
      assert.ok(!JSON.stringify(view).includes(creds.password));
      const status = await client.invoke('sync.status', {});
      assert.deepEqual(
        status.map((s) => s.database),
        [db],
      );
    } finally {
      await engine.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('setup.useDemo', { skip: !couchAdminUrl && 'needs test services' }, () => {
  it('starts the demo instance, saves it, and brings it back after a restart', async () => {
    const { createTestDatabase } = await import('../../support/postgres');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-demo-'));
    const database = await createTestDatabase('demo');
    const config = {
      dataDir,
      couch: null,
      postgres: { kind: 'external' as const, url: database.url },
      schema: 'v1',
      table: 'couchdb',
      batchSize: 1000,
      maxBatchBytes: 16 * 1024 * 1024,
      pipeline: { kind: 'bundled' as const },
      transform: { threads: 1, batchSize: null, selector: null, intervalSeconds: 5 },
    };
    // Settings changes re-derive the config from saved settings over this one (the test's PostgreSQL stays).
    const resolve = (saved: import('../../../app/store').SavedSettings) => ({
      ...config,
      couch: saved.couch.url
        ? { url: saved.couch.url, username: saved.couch.username ?? undefined, databases: saved.couch.databases }
        : null,
    });
    let engine = await createEngine({
      dataDir,
      config,
      logger: silentLogger,
      host: 'in-process',
      resolveConfig: resolve,
    });
    try {
      const view = await createInProcessClient(engine).invoke('setup.useDemo', {});
      assert.equal(view.isDemo, true);
      assert.equal(view.isSetupComplete, true);
      assert.equal(view.couch.hasPassword, true);
      assert.ok(view.couch.databases.includes('medic'));
      const demoUrl = view.couch.url;
      await engine.close();

      const { openStore } = await import('../../../app/store');
      const store = openStore(path.join(dataDir, 'state.sqlite'));
      const saved = store.settings.get();
      store.close();
      engine = await createEngine({
        dataDir,
        config: resolve(saved),
        logger: silentLogger,
        host: 'in-process',
        resolveConfig: resolve,
      });
      const client = createInProcessClient(engine);
      const result = await client.invoke('sync.runNow', { databases: ['medic'], timeoutSeconds: 120 });
      assert.equal(result.outcome, 'done', JSON.stringify(result.databases.map((d) => d.error)));
      assert.ok((result.databases[0]?.docs ?? 0) > 100);
      assert.equal((await client.invoke('settings.get', {})).couch.url, demoUrl, 'same demo address after a restart');
    } finally {
      await engine.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe(
  'startup overrides (command-line flags) keep winning after a settings change',
  { skip: !couchAdminUrl && 'needs test services' },
  () => {
    it('an external --postgres-url is not replaced by the saved embedded default', async () => {
      const { createTestDatabase } = await import('../../support/postgres');
      const { resolveConfig } = await import('../../../app/config');
      const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-flags-'));
      const database = await createTestDatabase('flags');
      const config = resolveConfig({ flags: { postgresUrl: database.url }, env: {}, saved: null, dataDir });
      const engine = await createEngine({ dataDir, config, logger: silentLogger, host: 'in-process' });
      try {
        const client = createInProcessClient(engine);
        const view = await client.invoke('settings.update', {
          couch: { url: couchUrl, databases: ['medic'] },
          language: 'fr',
        });
        assert.equal(view.postgres.kind, 'external');
        assert.equal(view.couch.url, couchUrl);
        assert.equal(view.language, 'fr');
        const conn = await client.invoke('data.connection', {});
        assert.equal(conn.database, database.name);

        // A trusted certificate is saved with its server, and forgotten when the server changes.
        const fingerprint = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0')).join(':');
        const trusted = await client.invoke('settings.update', { couch: { trustedFingerprint256: fingerprint } });
        assert.equal(trusted.couch.trustedFingerprint256, fingerprint.toUpperCase());
        const moved = await client.invoke('settings.update', {
          couch: { url: `${couchUrl.replace(/\/$/, '')}/other-prefix` },
        });
        assert.equal(moved.couch.trustedFingerprint256, null);
      } finally {
        await engine.close();
        await database.drop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  },
);
