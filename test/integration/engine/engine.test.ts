import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClientError, type EngineClient, type EventMap } from '../../../app/contract';
import { silentLogger } from '../../../app/core/logger';
import type { EngineConfig } from '../../../app/engine/config';
import { createEngine } from '../../../app/engine/create-engine';
import { createInProcessClient } from '../../../app/host/in-process-client';
import { freePort } from '../../../app/postgres/embedded';
import { adminHeaders } from '../../support/pouchdb-server';
import { createTestDatabase, uniqueName } from '../../support/postgres';

const couchAdminUrl = process.env.CHT_SYNC_TEST_COUCH_ADMIN_URL ?? '';
const couchUrl = process.env.CHT_SYNC_TEST_COUCH_URL ?? '';
const fixtures = JSON.parse(readFileSync('/work/shared/fixtures/cht-sample-docs.json', 'utf8')) as Record<
  string,
  unknown
>[];
const index = JSON.parse(readFileSync('/work/shared/fixtures/cht-sample-docs.index.json', 'utf8')) as {
  db: string;
  _id: string;
}[];
const medicDocs = fixtures.filter((_d, i) => index[i]?.db === 'medic');

async function seed(db: string, docs: Record<string, unknown>[]): Promise<void> {
  const headers = adminHeaders();
  const created = await fetch(`${couchUrl}/${db}`, { method: 'PUT', headers });
  assert.ok(created.ok, `create ${db}: ${created.status}`);
  // Attachment stubs (as the feed sends them) cannot be stored; the bodies are what the sync copies.
  const body = JSON.stringify({ new_edits: false, docs: docs.map(({ _attachments: _a, ...d }) => d) });
  const res = await fetch(`${couchUrl}/${db}/_bulk_docs`, { method: 'POST', headers, body });
  assert.ok(res.ok, `seed ${db}: ${res.status}`);
}

function config(dataDir: string, pgUrl: string, couch: EngineConfig['couch']): EngineConfig {
  return {
    dataDir,
    couch,
    postgres: { kind: 'external', url: pgUrl },
    schema: 'v1',
    table: 'couchdb',
    batchSize: 20,
    maxBatchBytes: 16 * 1024 * 1024,
    pipeline: { kind: 'bundled' },
    transform: { threads: 1, batchSize: null, selector: null, intervalSeconds: 0 },
  };
}

describe(
  'engine (real store, PostgreSQL, pouchdb-server, sync)',
  { skip: !couchAdminUrl && 'needs test services' },
  () => {
    let dataDir: string;
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let engine: Awaited<ReturnType<typeof createEngine>>;
    let client: EngineClient;
    const db = uniqueName('medic').toLowerCase();
    const seen: { [K in keyof EventMap]?: EventMap[K][] } = {};
    const password = new URL(couchAdminUrl).password;

    before(async () => {
      await seed(db, medicDocs);
      dataDir = mkdtempSync(path.join(tmpdir(), 'cht-engine-'));
      database = await createTestDatabase('engine');
      const parsed = new URL(couchAdminUrl);
      engine = await createEngine({
        dataDir,
        config: config(dataDir, database.url, {
          url: couchUrl,
          username: decodeURIComponent(parsed.username),
          password,
          databases: [db],
        }),
        logger: silentLogger,
        host: 'in-process',
      });
      client = createInProcessClient(engine);
      // These tests look at one kind of run at a time: the transforms that follow a sync by default are off.
      await client.invoke('settings.update', { advanced: { transformAfterSync: false } });
      for (const name of ['run.started', 'run.finished', 'sync.stateChanged', 'sync.statusChanged'] as const) {
        client.on(name, (p) => {
          (seen[name] ??= [] as never[]).push(p as never);
        });
      }
    });
    after(async () => {
      await engine?.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('sync.runNow copies every document, records the run and emits events; a parallel call joins it', async () => {
      const [a, b] = await Promise.all([client.invoke('sync.runNow', {}), client.invoke('sync.runNow', {})]);
      assert.equal(a.runId, b.runId, 'the second request joins the running sync');
      assert.equal(a.outcome, 'done');
      assert.equal(a.databases.length, 1);
      // `docs` counts every row written, tombstones included (`deletes` is the subset).
      assert.equal(a.databases[0]?.docs, medicDocs.length);
      assert.equal(a.databases[0]?.reachedEnd, true);
      const runs = await client.invoke('runs.list', { kind: 'sync' });
      assert.equal(runs[0]?.id, a.runId);
      assert.equal(runs[0]?.outcome, 'done');
      assert.ok(seen['run.started']?.some((r) => r.id === a.runId));
      assert.ok(seen['run.finished']?.some((r) => r.id === a.runId && r.outcome === 'done'));
      assert.ok((seen['sync.stateChanged'] ?? []).length > 0);
      const status = await client.invoke('sync.status', {});
      assert.equal(status[0]?.database, db);
      assert.equal(status[0]?.lastRun?.runId, a.runId);
      assert.ok(status[0]?.lastSuccessAt);
      const again = await client.invoke('sync.runNow', {});
      assert.equal(again.outcome, 'done');
      assert.equal(again.databases[0]?.docs, 0, 'a second run writes nothing');
    });

    it('data.tables lists the raw table with an exact count and freshness', async () => {
      const tables = await client.invoke('data.tables', {});
      const raw = tables.find((t) => t.name === 'couchdb');
      assert.ok(raw, JSON.stringify(tables));
      assert.equal(raw.rows, medicDocs.length);
      assert.ok(raw.freshAsOf && !Number.isNaN(Date.parse(raw.freshAsOf)));
    });

    it('data.preview pages and filters safely', async () => {
      const page = await client.invoke('data.preview', { table: 'couchdb', limit: 5 });
      assert.equal(page.rows.length, 5);
      assert.equal(page.total, medicDocs.length);
      assert.ok(page.columns.some((c) => c.name === '_id'));
      const one = await client.invoke('data.preview', {
        table: 'couchdb',
        filter: { column: '_id', op: 'eq', value: 'settings' },
      });
      assert.equal(one.total, 1);
      const idAt = one.columns.findIndex((c) => c.name === '_id');
      assert.equal(one.rows[0]?.[idAt], 'settings');
      const injected = await client.invoke('data.preview', {
        table: 'couchdb',
        filter: { column: '_id', op: 'eq', value: "x' or '1'='1" },
      });
      assert.equal(injected.total, 0);
      await assert.rejects(
        client.invoke('data.preview', {
          table: 'couchdb',
          filter: { column: 'nope"; drop table v1.couchdb; --', op: 'eq', value: 'x' },
        }),
        (e: unknown) => e instanceof ClientError && e.code === 'INVALID_ARGUMENT',
      );
      await assert.rejects(
        client.invoke('data.preview', { table: 'couchdb; drop table v1.couchdb' }),
        (e: unknown) => e instanceof ClientError && e.code === 'NOT_FOUND',
      );
      await assert.rejects(
        client.invoke('data.preview', {
          table: 'couchdb',
          filter: { column: 'saved_timestamp', op: 'gt', value: 'not a date' },
        }),
        (e: unknown) => e instanceof ClientError && e.code === 'INVALID_ARGUMENT',
      );
      const recent = await client.invoke('data.preview', {
        table: 'couchdb',
        filter: { column: 'saved_timestamp', op: 'gt', value: '2000-01-01' },
      });
      assert.equal(recent.total, medicDocs.length);
    });

    it('data.exportCsv writes RFC 4180 CSV with a BOM', async () => {
      const out = await client.invoke('data.exportCsv', {
        table: 'couchdb',
        filter: { column: '_id', op: 'contains', value: 'settings' },
      });
      assert.ok(out.csv.startsWith('\uFEFF'));
      const lines = out.csv.slice(1).split('\r\n');
      assert.equal(lines[0], 'saved_timestamp,_id,_deleted,source,doc');
      assert.ok(out.rows >= 1);
      assert.match(out.fileName, /^couchdb.*\.csv$/);
      const all = await client.invoke('data.exportCsv', { table: 'couchdb' });
      assert.equal(all.rows, medicDocs.length);
    });

    it('issue 11 #14: a date filter takes only ISO (01/07/2026 is refused, not read as 7 January); export names label the export date; .xlsx has typed cells', async () => {
      await assert.rejects(
        client.invoke('data.preview', {
          table: 'couchdb',
          filter: { column: 'saved_timestamp', op: 'gt', value: '01/07/2026' },
        }),
        (e: unknown) => e instanceof ClientError && e.code === 'INVALID_ARGUMENT' && /year-month-day/.test(e.message),
      );
      const today = new Date().toISOString().slice(0, 10);
      const filtered = await client.invoke('data.exportCsv', {
        table: 'couchdb',
        filter: { column: 'saved_timestamp', op: 'gt', value: '2000-01-01' },
      });
      assert.equal(filtered.fileName, `couchdb-filtered-by-saved_timestamp-exported-${today}.csv`);
      const xlsx = await client.invoke('data.exportXlsx', {
        table: 'couchdb',
        filter: { column: '_id', op: 'eq', value: 'settings' },
      });
      assert.equal(xlsx.rows, 1);
      assert.equal(xlsx.fileName, `couchdb-filtered-by-_id-exported-${today}.xlsx`);
      const zip = Buffer.from(xlsx.base64, 'base64');
      assert.equal(zip.readUInt32LE(0), 0x04034b50, 'a zip file');
      const { inflateRawSync } = await import('node:zlib');
      // The sheet is the last local entry: find it by name and inflate it.
      const at = zip.indexOf('xl/worksheets/sheet1.xml');
      const header = at - 30;
      const packed = zip.subarray(
        at + zip.readUInt16LE(header + 26) + zip.readUInt16LE(header + 28),
        at + zip.readUInt16LE(header + 26) + zip.readUInt16LE(header + 28) + zip.readUInt32LE(header + 18),
      );
      const sheet = inflateRawSync(packed).toString('utf8');
      // saved_timestamp is a date cell (styled), _deleted a boolean, _id text.
      assert.match(sheet, /<c r="A2" s="2"><v>\d+\.\d+<\/v><\/c>/);
      assert.match(sheet, /<c r="B2" t="inlineStr"><is><t xml:space="preserve">settings<\/t>/);
      assert.match(sheet, /<c r="C2" t="b"><v>0<\/v><\/c>/);
    });

    it('data.connection and diagnostics carry no secret', async () => {
      const conn = await client.invoke('data.connection', {});
      assert.equal(conn.schema, 'v1');
      assert.ok(!conn.url.includes('@') || !new URL(conn.url).password);
      const { report } = await client.invoke('runs.diagnostics', { id: 1 });
      assert.match(report, /Recent runs/);
      assert.ok(!report.includes(password), 'no CouchDB password in diagnostics');
      const names = medicDocs.map((d) => d.name).filter((n): n is string => typeof n === 'string' && n.length > 3);
      assert.ok(names.length > 0);
      for (const name of names) assert.ok(!report.includes(name), `no patient/contact name (${name}) in diagnostics`);
    });

    it('charts explain why they are empty', async () => {
      const chart = await client.invoke('data.chart', { chart: 'reports-per-form-week' });
      assert.equal(chart.series.length, 0);
      // A code and its values (the UI words it in the reader's language), not an English sentence.
      assert.deepEqual(chart.emptyReason, { code: 'no-table', table: 'data_record' });
      const throughput = await client.invoke('data.chart', { chart: 'sync-throughput' });
      assert.ok(throughput.series.length > 0, 'the first run copied documents');
      // Issue 11 #15: series the engine names itself say what they are, for the UI to word them.
      assert.ok(throughput.series.some((s) => s.role === 'throughput' && s.name.startsWith(String(s.database))));
      assert.ok(throughput.series.some((s) => s.role === 'backlog'));
    });

    it('transform.runNow builds the bundled pipeline; a second request meanwhile is BUSY', async () => {
      const first = client.invoke('transform.runNow', {});
      await assert.rejects(
        client.invoke('transform.runNow', {}),
        (e: unknown) => e instanceof ClientError && e.code === 'BUSY' && e.retryable,
      );
      const result = await first;
      assert.equal(
        result.outcome,
        'done',
        JSON.stringify(result.models.filter((m) => m.status !== 'success').slice(0, 2)),
      );
      assert.ok(result.models.some((m) => m.model === 'data_record' && m.status === 'success'));
      const detail = await client.invoke('runs.get', { id: result.runId });
      assert.equal(detail.kind, 'transform');
      assert.equal(detail.models?.length, result.models.length);
      const tables = (await client.invoke('data.tables', {})).map((t) => t.name);
      for (const name of ['document_metadata', 'contact', 'data_record']) assert.ok(tables.includes(name), name);
      const reports = await client.invoke('data.chart', { chart: 'reports-per-form-week' });
      // The fixture reports are years old: the window ends at the newest report, not today, so they still show.
      assert.ok(reports.series.length > 0, JSON.stringify(reports.emptyReason));
      const total = reports.series.reduce((sum, s) => sum + s.points.reduce((n, p) => n + p.y, 0), 0);
      assert.ok(total > 0);
      const weeks = reports.series[0]!.points.map((p) => p.x);
      assert.equal(weeks.length, 26);
      assert.deepEqual([...weeks].sort(), weeks);
    });

    it('a Sync now that lands new rows is followed by the transforms (a setting); one that lands nothing is not', async () => {
      await client.invoke('settings.update', { advanced: { transformAfterSync: true } });
      assert.equal((await client.invoke('settings.get', {})).advanced.transformAfterSync, true);
      const built = new Promise<EventMap['run.finished']>((resolve) => {
        const off = client.on('run.finished', (run) => {
          if (run.kind !== 'transform') return;
          off();
          resolve(run);
        });
      });
      const doc = {
        _id: uniqueName('new-report'),
        type: 'data_record',
        form: 'P',
        reported_date: Date.now(),
        contact: { _id: 'c1' },
      };
      const put = await fetch(`${couchUrl}/${db}/${doc._id}`, {
        method: 'PUT',
        headers: adminHeaders(),
        body: JSON.stringify(doc),
      });
      assert.ok(put.ok);
      const sync = await client.invoke('sync.runNow', {});
      assert.equal(sync.databases[0]?.docs, 1);
      const transform = await built;
      assert.equal(transform.outcome, 'done');
      assert.equal(transform.trigger, 'manual');
      const before = (await client.invoke('runs.list', { kind: 'transform', limit: 50 })).length;
      const nothing = await client.invoke('sync.runNow', {});
      assert.equal(nothing.databases[0]?.docs, 0);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(
        (await client.invoke('runs.list', { kind: 'transform', limit: 50 })).length,
        before,
        'no new rows, no transform',
      );
      await client.invoke('settings.update', { advanced: { transformAfterSync: false } });
    });

    it('settings never reveal a password, and runs.get of a missing run is NOT_FOUND', async () => {
      const view = await client.invoke('settings.update', {
        couch: { password: 'new-secret-value' },
        schedule: { kind: 'interval', minutes: 15 },
      });
      assert.equal(view.couch.hasPassword, true);
      assert.deepEqual(view.schedule, { kind: 'interval', minutes: 15 });
      // The startup config stands for what it set (as command-line flags do).
      assert.equal(view.advanced.batchSize, 20);
      assert.ok(!JSON.stringify(view).includes('new-secret-value'));
      await client.invoke('settings.update', { couch: { password } });
      await assert.rejects(
        client.invoke('runs.get', { id: 999_999 }),
        (e: unknown) => e instanceof ClientError && e.code === 'NOT_FOUND',
      );
    });
  },
);

describe('sync.runNow tells offline and refused apart', { skip: !couchAdminUrl && 'needs test services' }, () => {
  it('reports offline when nothing listens, refused on a wrong password', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-engine-'));
    const database = await createTestDatabase('engine');
    const db = uniqueName('medic').toLowerCase();
    await seed(db, medicDocs.slice(0, 3));
    const deadPort = await freePort();
    const base = config(dataDir, database.url, {
      url: `http://127.0.0.1:${deadPort}`,
      username: 'admin',
      password: 'whatever',
      databases: [db],
    });
    const engine = await createEngine({
      dataDir,
      config: base,
      logger: silentLogger,
      host: 'in-process',
      // As the CLI does without flags: saved settings decide after a change (the password comes from the secret store).
      resolveConfig: (saved) => ({
        ...base,
        couch: saved.couch.url
          ? {
              url: saved.couch.url,
              ...(saved.couch.username ? { username: saved.couch.username } : {}),
              databases: saved.couch.databases,
            }
          : null,
      }),
    });
    try {
      const client = createInProcessClient(engine);
      const offline = await client.invoke('sync.runNow', { timeoutSeconds: 20 });
      assert.equal(offline.outcome, 'offline', JSON.stringify(offline.databases[0]?.error));
      // Only sync runs are looked at here: the transforms that follow a sync by default are off.
      await client.invoke('settings.update', {
        couch: { url: couchUrl, username: 'admin', password: 'wrong-password', databases: [db] },
        advanced: { transformAfterSync: false },
      });
      const refused = await client.invoke('sync.runNow', { timeoutSeconds: 20 });
      assert.equal(refused.outcome, 'refused', JSON.stringify(refused.databases[0]?.error));
      const admin = new URL(couchAdminUrl);
      await client.invoke('settings.update', {
        couch: { password: decodeURIComponent(admin.password), databases: [db, 'no-such-database'] },
      });
      const partial = await client.invoke('sync.runNow', { timeoutSeconds: 20 });
      assert.equal(partial.outcome, 'partial');
      const byDb = new Map(partial.databases.map((d) => [d.database, d]));
      assert.equal(byDb.get(db)?.outcome, 'done');
      assert.notEqual(byDb.get('no-such-database')?.outcome, 'done');
      assert.ok(
        byDb.get('no-such-database')?.error?.message.includes('no-such-database'),
        'the error names the database',
      );
      const history = await client.invoke('runs.list', {});
      assert.deepEqual(
        history.map((r) => r.outcome),
        ['partial', 'refused', 'offline'],
      );
    } finally {
      await engine.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
