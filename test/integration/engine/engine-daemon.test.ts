import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { EngineConfig } from '../../../app/engine/config';
import { createEngine } from '../../../app/engine/create-engine';
import { createInProcessClient } from '../../../app/host/in-process-client';
import { silentLogger } from '../../../app/core/logger';
import { adminHeaders } from '../../support/pouchdb-server';
import { createTestDatabase, uniqueName } from '../../support/postgres';

const couchAdminUrl = process.env.CHT_SYNC_TEST_COUCH_ADMIN_URL ?? '';
const couchUrl = process.env.CHT_SYNC_TEST_COUCH_URL ?? '';
const fixtures = JSON.parse(readFileSync('/work/shared/fixtures/cht-sample-docs.json', 'utf8')) as Record<
  string,
  unknown
>[];
const index = JSON.parse(readFileSync('/work/shared/fixtures/cht-sample-docs.index.json', 'utf8')) as { db: string }[];
const medicDocs = fixtures.filter((_d, i) => index[i]?.db === 'medic').map(({ _attachments: _a, ...d }) => d);

function config(dataDir: string, pgUrl: string, couch: EngineConfig['couch']): EngineConfig {
  return {
    dataDir,
    couch,
    postgres: { kind: 'external', url: pgUrl },
    schema: 'v1',
    table: 'couchdb',
    batchSize: 100,
    maxBatchBytes: 16 * 1024 * 1024,
    pipeline: { kind: 'bundled' },
    transform: { threads: 1, batchSize: null, selector: null, intervalSeconds: 0 },
  };
}

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await f();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('engine daemon and timeouts', { skip: !couchAdminUrl && 'needs test services' }, () => {
  it('`run` mode follows the feed and refreshes the incremental models after new rows land', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-daemon-'));
    const database = await createTestDatabase('daemon');
    const db = uniqueName('medic').toLowerCase();
    const headers = adminHeaders();
    assert.ok((await fetch(`${couchUrl}/${db}`, { method: 'PUT', headers })).ok);
    assert.ok(
      (
        await fetch(`${couchUrl}/${db}/_bulk_docs`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ new_edits: false, docs: medicDocs }),
        })
      ).ok,
    );
    const parsed = new URL(couchAdminUrl);
    const engine = await createEngine({
      dataDir,
      config: config(dataDir, database.url, {
        url: couchUrl,
        username: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
        databases: [db],
      }),
      logger: silentLogger,
      host: 'in-process',
    });
    const client = createInProcessClient(engine);
    try {
      const busyTransforms: number[] = [];
      let running = 0;
      client.on('run.started', (r) => {
        if (r.kind === 'transform') busyTransforms.push(++running);
      });
      client.on('run.finished', (r) => {
        if (r.kind === 'transform') running--;
      });
      engine.startDaemon({ follow: true, transforms: true });
      await until('the first transform run', async () =>
        (await client.invoke('runs.list', { kind: 'transform' })).find((r) => r.outcome === 'done'),
      );
      await until('live state', async () => (await client.invoke('sync.status', {}))[0]?.state.kind === 'live');
      await assert.rejects(client.invoke('sync.runNow', {}), /Continuous sync is running/);

      const report = {
        _id: uniqueName('report'),
        type: 'data_record',
        form: 'daemon_test_form',
        reported_date: Date.now(),
        contact: { _id: 'nonexistent-contact' },
        fields: {},
      };
      const created = await fetch(`${couchUrl}/${db}/${report._id}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify(report),
      });
      assert.ok(created.ok);
      const { rev } = (await created.json()) as { rev: string };
      const row = await until('the new report in data_record', async () => {
        const page = await client.invoke('data.preview', {
          table: 'data_record',
          filter: { column: 'form', op: 'eq', value: 'daemon_test_form' },
        });
        return page.total === 1 ? page : null;
      });
      assert.equal(row.total, 1);
      const chart = await client.invoke('data.chart', { chart: 'reports-per-form-week' });
      assert.ok(
        chart.series.some((s) => s.name === 'daemon_test_form' && s.points.some((p) => p.y === 1)),
        JSON.stringify(chart).slice(0, 300),
      );

      // An edit reaches the derived table in place of the old row…
      const edited = await fetch(`${couchUrl}/${db}/${report._id}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ ...report, _rev: rev, form: 'daemon_test_form_edited' }),
      });
      assert.ok(edited.ok);
      const { rev: rev2 } = (await edited.json()) as { rev: string };
      await until('the edit in data_record', async () => {
        const page = await client.invoke('data.preview', {
          table: 'data_record',
          filter: { column: 'uuid', op: 'eq', value: report._id },
        });
        return page.total === 1 && page.rows[0]?.includes('daemon_test_form_edited') ? page : null;
      });
      // …and a delete (saved whole with _deleted, as the CHT webapp does) removes it.
      const deleted = await fetch(`${couchUrl}/${db}/${report._id}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ ...report, _rev: rev2, form: 'daemon_test_form_edited', _deleted: true }),
      });
      assert.ok(deleted.ok);
      await until('the delete in data_record', async () => {
        const page = await client.invoke('data.preview', {
          table: 'data_record',
          filter: { column: 'uuid', op: 'eq', value: report._id },
        });
        return page.total === 0 ? page : null;
      });
      // Every step is in the run history.
      const transforms = await client.invoke('runs.list', { kind: 'transform' });
      assert.ok(transforms.length >= 3, `a transform run per step: ${transforms.length}`);
      assert.ok(
        transforms.every((r) => r.outcome === 'done' || r.outcome === 'running'),
        JSON.stringify(transforms.map((r) => r.outcome)),
      );
      assert.ok(
        busyTransforms.every((n) => n === 1),
        'never two transform runs at once',
      );
      await engine.stopDaemon();
      const syncRuns = await client.invoke('runs.list', { kind: 'sync' });
      assert.notEqual(syncRuns[0]?.outcome, 'running', 'the follow run is closed when the daemon stops');
    } finally {
      await engine.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a reachable server too slow for the deadline reports timeout, not offline', async () => {
    // Answers the server and database info at once, then never finishes a changes request.
    const hanging = new Set<http.ServerResponse>();
    const server = http.createServer((req, res) => {
      if ((req.url ?? '').includes('_changes')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"results":[\n');
        hanging.add(res);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          req.url === '/'
            ? { couchdb: 'Welcome', version: '3.3.3' }
            : { db_name: 'medic', doc_count: 10, update_seq: '10-x' },
        ),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-slow-'));
    const database = await createTestDatabase('slow');
    const engine = await createEngine({
      dataDir,
      config: config(dataDir, database.url, {
        url: `http://127.0.0.1:${port}`,
        username: 'u',
        password: 'p-long-enough',
        databases: ['medic'],
      }),
      logger: silentLogger,
      host: 'in-process',
    });
    try {
      const started = Date.now();
      const result = await createInProcessClient(engine).invoke('sync.runNow', { timeoutSeconds: 2 });
      assert.equal(result.outcome, 'timeout', JSON.stringify(result.databases[0]?.error));
      assert.ok(Date.now() - started < 20_000);
    } finally {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await engine.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
