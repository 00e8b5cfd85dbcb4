import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { RunSummary, SyncRunResult, Wire } from '../../../app/contract';
import { silentLogger } from '../../../app/core/logger';
import { createEngine } from '../../../app/engine/create-engine';
import { startHttpHost } from '../../../app/host/http-host';
import { adminHeaders } from '../../support/pouchdb-server';
import { createTestDatabase, uniqueName } from '../../support/postgres';

const couchAdminUrl = process.env.CHT_SYNC_TEST_COUCH_ADMIN_URL ?? '';
const couchUrl = process.env.CHT_SYNC_TEST_COUCH_URL ?? '';

describe('http host in front of a real engine', { skip: !couchAdminUrl && 'needs test services' }, () => {
  it('a sync started over HTTP is pushed to SSE listeners as run.started / run.finished', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-host-engine-'));
    const staticDir = mkdtempSync(path.join(tmpdir(), 'cht-host-static-'));
    const database = await createTestDatabase('host');
    const db = uniqueName('medic').toLowerCase();
    const headers = adminHeaders();
    assert.ok((await fetch(`${couchUrl}/${db}`, { method: 'PUT', headers })).ok);
    const docs = Array.from({ length: 30 }, (_v, i) => ({ _id: `d${i}`, type: 'data_record', form: 'f' }));
    assert.ok(
      (await fetch(`${couchUrl}/${db}/_bulk_docs`, { method: 'POST', headers, body: JSON.stringify({ docs }) })).ok,
    );
    const admin = new URL(couchAdminUrl);
    const engine = await createEngine({
      dataDir,
      config: {
        dataDir,
        couch: {
          url: couchUrl,
          username: decodeURIComponent(admin.username),
          password: decodeURIComponent(admin.password),
          databases: [db],
        },
        postgres: { kind: 'external', url: database.url },
        schema: 'v1',
        table: 'couchdb',
        batchSize: 10,
        maxBatchBytes: 16 * 1024 * 1024,
        pipeline: { kind: 'bundled' },
        transform: { threads: 1, batchSize: null, selector: null, intervalSeconds: 0 },
      },
      logger: silentLogger,
      host: 'http',
    });
    const host = await startHttpHost(engine, { staticDir, logger: silentLogger });
    try {
      const events: { event: string; data: unknown }[] = [];
      let buffer = '';
      const stream = http.get(`${host.url}/api/events`, { headers: { authorization: `Bearer ${host.token}` } });
      await new Promise<void>((resolve, reject) => {
        stream.on('response', (res) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffer += chunk;
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const name = /^event: (.+)$/m.exec(block)?.[1];
              const data = /^data: (.+)$/m.exec(block)?.[1];
              if (name && data) events.push({ event: name, data: JSON.parse(data) as unknown });
            }
          });
          resolve();
        });
        stream.on('error', reject);
      });
      const response = await fetch(`${host.url}/api/invoke/sync.runNow`, {
        method: 'POST',
        headers: { authorization: `Bearer ${host.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ timeoutSeconds: 60 }),
      });
      const wire = (await response.json()) as Wire<SyncRunResult>;
      assert.ok(wire.ok, JSON.stringify(wire));
      assert.equal(wire.value.outcome, 'done');
      assert.equal(wire.value.databases[0]?.docs, 30);
      await new Promise((r) => setTimeout(r, 400));
      const started = events.find((e) => e.event === 'run.started' && (e.data as RunSummary).id === wire.value.runId);
      const finished = events.find((e) => e.event === 'run.finished' && (e.data as RunSummary).id === wire.value.runId);
      assert.ok(started, JSON.stringify(events.map((e) => e.event)));
      assert.equal((finished?.data as RunSummary | undefined)?.outcome, 'done');
      assert.ok(events.some((e) => e.event === 'sync.stateChanged'));
      assert.ok(events.some((e) => e.event === 'sync.statusChanged'));
      stream.destroy();

      // The streaming download: same CSV as data.exportCsv, as an attachment.
      const download = await fetch(`${host.url}/api/export.csv?table=couchdb&column=_id&op=contains&value=d1`, {
        headers: { authorization: `Bearer ${host.token}` },
      });
      assert.equal(download.status, 200);
      assert.match(
        download.headers.get('content-disposition') ?? '',
        /attachment; filename="couchdb-filtered-by-_id-exported-\d{4}-\d\d-\d\d\.csv"/,
      );
      const csv = await download.text();
      const lines = csv
        .replace(/^\uFEFF/, '')
        .split('\r\n')
        .filter(Boolean);
      assert.equal(lines[0], 'saved_timestamp,_id,_deleted,source,doc');
      assert.equal(lines.length - 1, 11, 'd1 and d10..d19');
      const missing = await fetch(`${host.url}/api/export.csv?table=nope`, {
        headers: { authorization: `Bearer ${host.token}` },
      });
      assert.equal(missing.status, 400);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
      const anonymous = await fetch(`${host.url}/api/export.csv?table=couchdb`);
      assert.equal(anonymous.status, 401);
    } finally {
      await host.close();
      await engine.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(staticDir, { recursive: true, force: true });
    }
  });
});
