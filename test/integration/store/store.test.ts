import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { DatabaseRunResult, ModelRunResult } from '../../../app/contract/dto';
import { EngineError } from '../../../app/core/engine-error';
import { MIGRATIONS, openStore, storeFile, type Migration } from '../../../app/store';
import { migrate } from '../../../app/store/migrate';

const dirs: string[] = [];
function tmpDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cht-store-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dbResult(database: string, over: Partial<DatabaseRunResult> = {}): DatabaseRunResult {
  return {
    database,
    source: `127.0.0.1/${database}`,
    outcome: 'done',
    docs: 10,
    deletes: 1,
    skipped: [],
    bytes: 2048,
    seconds: 1.5,
    seqBefore: null,
    seqAfter: '12-g1AAAA',
    reachedEnd: true,
    ...over,
  };
}

describe('store: migrations', () => {
  it('creates the schema once, in WAL mode, and reopens without re-applying', () => {
    const file = storeFile(tmpDataDir());
    openStore(file).close();
    const raw = new Database(file, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    const applied = raw.prepare('select version, name from schema_migrations').all();
    assert.deepEqual(
      applied,
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
    );
    raw.close();
    openStore(file).close();
    const again = new Database(file, { readonly: true });
    assert.equal(
      (again.prepare('select count(*) n from schema_migrations').get() as { n: number }).n,
      MIGRATIONS.length,
    );
    again.close();
  });

  it('applies only the missing migrations, each in its own transaction', () => {
    const file = storeFile(tmpDataDir());
    openStore(file).close();
    const extra: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'extra',
      sql: 'create table extra_thing (x integer)',
    };
    const broken: Migration = {
      version: MIGRATIONS.length + 2,
      name: 'broken',
      sql: 'create table half (x integer); this is not sql',
    };
    assert.throws(() => openStore(file, { migrations: [...MIGRATIONS, extra, broken] }), EngineError);
    const raw = new Database(file, { readonly: true });
    const versions = (
      raw.prepare('select version from schema_migrations order by version').all() as { version: number }[]
    ).map((r) => r.version);
    assert.deepEqual(
      versions,
      [...MIGRATIONS.map((m) => m.version), extra.version],
      'the good step committed, the broken one did not',
    );
    assert.equal(
      raw.prepare(`select name from sqlite_master where name = 'half'`).get(),
      undefined,
      'no half-applied migration',
    );
    raw.close();
  });

  it('refuses a data folder written by a newer version', () => {
    const file = storeFile(tmpDataDir());
    const newer: Migration = {
      version: MIGRATIONS.length + 1,
      name: 'from-the-future',
      sql: 'create table future (x integer)',
    };
    openStore(file, { migrations: [...MIGRATIONS, newer] }).close();
    assert.throws(
      () => openStore(file),
      (error: unknown) =>
        error instanceof EngineError &&
        error.code === 'STORE' &&
        /written by a newer version/.test(error.message) &&
        error.message.includes('--data-dir'),
    );
  });

  it('a damaged file: a STORE error that says what to do', () => {
    const dir = tmpDataDir();
    writeFileSync(storeFile(dir), 'this is not a database, just text that is long enough to have a header'.repeat(20));
    assert.throws(
      () => openStore(storeFile(dir)),
      (error: unknown) =>
        error instanceof EngineError &&
        error.code === 'STORE' &&
        /is damaged/.test(error.message) &&
        /Move it aside/.test(error.message),
    );
  });

  it('refuses an applied list that differs from the known one', () => {
    const file = storeFile(tmpDataDir());
    const renamed = MIGRATIONS.map((m, i) => (i === 0 ? { ...m, name: 'something-else' } : m));
    openStore(file, { migrations: renamed }).close();
    assert.throws(() => openStore(file), /different version/);
  });
});

describe('store: repositories', () => {
  it('settings round-trip with defaults and partial merges', () => {
    const store = openStore(storeFile(tmpDataDir()));
    assert.equal(store.settings.hasSaved(), false);
    assert.equal(store.settings.get().schema, 'v1');
    store.settings.update({
      couch: { url: 'https://cht.example', username: 'reader', databases: ['medic'], trustedFingerprint256: null },
    });
    const next = store.settings.update({ couch: { databases: ['medic', '_users'] } as never, schema: 'raw' });
    assert.deepEqual(next.couch, {
      url: 'https://cht.example',
      username: 'reader',
      databases: ['medic', '_users'],
      trustedFingerprint256: null,
    });
    assert.equal(next.schema, 'raw');
    assert.equal(store.settings.hasSaved(), true);
    store.close();
    const reopened = openStore(store.file);
    assert.deepEqual(reopened.settings.get(), next);
    reopened.close();
  });

  it('secrets live in a 0600 file, not in the database', () => {
    const dir = tmpDataDir();
    const store = openStore(storeFile(dir));
    store.secrets.set('couch.password', 'very-secret-value');
    assert.equal(store.secrets.get('couch.password'), 'very-secret-value');
    assert.equal(statSync(path.join(dir, 'secrets.json')).mode & 0o777, 0o600);
    store.secrets.set('couch.password', null);
    assert.equal(store.secrets.get('couch.password'), null);
    store.secrets.set('couch.password', 'very-secret-value');
    store.close();
    const raw = new Database(storeFile(dir), { readonly: true });
    const dump = JSON.stringify(raw.prepare('select * from settings').all());
    assert.doesNotMatch(dump, /very-secret-value/);
    raw.close();
  });

  it('checkpoints keep the opaque seq as given', () => {
    const store = openStore(storeFile(tmpDataDir()));
    assert.equal(store.checkpoints.get('h/medic'), null);
    const seq =
      '42-g1AAAAJLeJzLYWBgYMpgTmHgzcvPy09JdcjLz8gvLskBCScyJNX___8_K4M5kSEXKMBuYmqZkmRmgksfHjPyWIAkQwOQ-g81JgNsTGqaRYqJiRk2vVkAlFUsqw';
    store.checkpoints.set('h/medic', seq, 7);
    store.checkpoints.set('h/medic', seq, 3);
    assert.deepEqual({ ...store.checkpoints.get('h/medic'), updatedAt: 'x' }, { seq, pending: 3, updatedAt: 'x' });
    assert.equal(store.checkpoints.all().length, 1);
    store.close();
  });

  it('sync runs: start, finish, list, filter, get with skipped docs', () => {
    const store = openStore(storeFile(tmpDataDir()));
    const first = store.runs.start('sync', 'cli');
    assert.equal(store.runs.get(first)?.outcome, 'running');
    const summary = store.runs.finishSync(first, {
      outcome: 'partial',
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:05.000Z',
      databases: [
        dbResult('medic', { skipped: [{ id: 'bad-doc', reason: 'invalid escape \\3' }] }),
        dbResult('_users', {
          outcome: 'refused',
          docs: 0,
          deletes: 0,
          reachedEnd: false,
          error: { code: 'COUCH_AUTH', message: 'no', retryable: false },
        }),
      ],
    });
    assert.equal(summary.outcome, 'partial');
    assert.equal(summary.count, 10);
    assert.equal(summary.errorCount, 2);
    assert.match(summary.summary, /2 databases, 10 docs \(1 deleted\), 1 skipped, _users: refused/);
    const detail = store.runs.get(first);
    assert.deepEqual(detail?.databases?.[0]?.skipped, [{ id: 'bad-doc', reason: 'invalid escape \\3' }]);
    assert.equal(detail?.databases?.[1]?.error?.code, 'COUCH_AUTH');
    assert.equal(detail?.databases?.[0]?.reachedEnd, true);
    assert.equal(detail?.error?.code, 'COUCH_AUTH');

    const second = store.runs.start('transform', 'daemon');
    const models: ModelRunResult[] = [
      {
        model: 'contact',
        uniqueId: 'base.contact',
        materialized: 'incremental',
        status: 'success',
        rowsAffected: 5,
        seconds: 0.2,
        refreshReason: 'compiled SQL changed',
      },
      {
        model: 'person',
        uniqueId: 'base.person',
        materialized: 'incremental',
        status: 'error',
        rowsAffected: null,
        seconds: 0.1,
        error: {
          code: 'MODEL_RUN',
          message: 'boom',
          retryable: false,
          details: { file: 'models/person.sql', line: 3 },
        },
      },
      {
        model: 'patient',
        uniqueId: 'base.patient',
        materialized: 'table',
        status: 'skipped',
        rowsAffected: null,
        seconds: 0,
        skippedBecause: 'base.person',
      },
    ];
    store.runs.finishTransform(second, {
      outcome: 'partial',
      startedAt: '2026-01-01T00:01:00.000Z',
      finishedAt: '2026-01-01T00:01:02.000Z',
      project: 'bundled',
      models,
      warnings: ['w1'],
    });
    const t = store.runs.get(second);
    assert.deepEqual(t?.models, models);
    assert.deepEqual(t?.warnings, ['w1']);
    assert.equal(t?.count, 1);

    const third = store.runs.start('sync', 'manual');
    store.runs.fail(third, 'offline', { code: 'COUCH_UNREACHABLE', message: 'cannot reach', retryable: true });

    assert.deepEqual(
      store.runs.list({ limit: 10 }).map((r) => r.id),
      [third, second, first],
    );
    assert.deepEqual(
      store.runs.list({ limit: 10, kind: 'sync' }).map((r) => r.id),
      [third, first],
    );
    assert.deepEqual(
      store.runs.list({ limit: 10, outcome: 'offline' }).map((r) => r.id),
      [third],
    );
    assert.deepEqual(
      store.runs.list({ limit: 1, beforeId: third }).map((r) => r.id),
      [second],
    );
    assert.equal(store.runs.get(9999), null);
    assert.throws(
      () => store.runs.finishSync(9999, { outcome: 'done', startedAt: '', finishedAt: '', databases: [] }),
      /does not exist/,
    );

    const points = store.runs.throughput('2025-12-31T00:00:00.000Z');
    assert.deepEqual(
      points.map((p) => p.database),
      ['medic', '_users'],
    );

    // A `cht-sync dbt build`: seeds and tests keep their kind, and a test its outcome and failing rows.
    const build = store.runs.start('transform', 'cli');
    const nodes: ModelRunResult[] = [
      {
        model: 'people',
        uniqueId: 'p.people',
        materialized: 'seed',
        status: 'success',
        rowsAffected: 2,
        seconds: 0.1,
        resourceType: 'seed',
      },
      {
        model: 'unique_people_id',
        uniqueId: 'p.unique_people_id',
        materialized: 'test',
        status: 'fail',
        rowsAffected: null,
        seconds: 0.05,
        resourceType: 'test',
        description: 'people.id has no duplicates',
        failures: 1,
        message: 'Got 1 result, configured to fail if != 0',
        failingRows: [{ unique_field: 1, n_records: 2 }],
        failingSql: 'select id from people group by id having count(*) > 1',
      },
      {
        model: 'not_null_people_id',
        uniqueId: 'p.not_null_people_id',
        materialized: 'test',
        status: 'pass',
        rowsAffected: null,
        seconds: 0.05,
        resourceType: 'test',
        description: 'people.id is never empty',
        failures: 0,
      },
    ];
    const buildSummary = store.runs.finishTransform(build, {
      outcome: 'partial',
      startedAt: '2026-01-01T00:02:00.000Z',
      finishedAt: '2026-01-01T00:02:01.000Z',
      project: 'p',
      models: nodes,
      warnings: [],
    });
    assert.deepEqual(store.runs.get(build)?.models, nodes);
    assert.equal(buildSummary.summary, '3 nodes: 2 succeeded, 1 failed (unique_people_id)');
    store.close();
  });

  it('model fingerprints are kept per project and replaced whole', () => {
    const store = openStore(storeFile(tmpDataDir()));
    store.models.setFingerprints(
      'bundled',
      new Map([
        ['a', '1'],
        ['b', '2'],
      ]),
    );
    store.models.setFingerprints('other', new Map([['a', '9']]));
    store.models.setFingerprints('bundled', new Map([['a', '3']]));
    assert.deepEqual([...store.models.getFingerprints('bundled')], [['a', '3']]);
    assert.deepEqual([...store.models.getFingerprints('other')], [['a', '9']]);
    store.close();
  });
});

describe('store: concurrency and crashes', () => {
  it('two handles on one file see each other’s writes', () => {
    const file = storeFile(tmpDataDir());
    const a = openStore(file);
    const b = openStore(file);
    const id = a.runs.start('sync', 'cli');
    assert.equal(b.runs.get(id)?.outcome, 'running');
    b.settings.update({ schema: 'from_b' });
    assert.equal(a.settings.get().schema, 'from_b');
    a.checkpoints.set('s', '1', null);
    assert.equal(b.checkpoints.get('s')?.seq, '1');
    a.close();
    b.close();
  });

  it('concurrent first opens from several processes migrate exactly once', async () => {
    const file = storeFile(tmpDataDir());
    const runs = Array.from({ length: 3 }, () => runChild(file, 'exit'));
    for (const child of runs) assert.equal(await child.exited, 0);
    const store = openStore(file);
    assert.equal(store.runs.list({ limit: 10 }).length, 3);
    store.close();
  });

  it('a run left "running" by a killed process is marked failed at the next start, a live one is not', async () => {
    const file = storeFile(tmpDataDir());
    openStore(file).close();
    const child = runChild(file, 'hang');
    await child.started;
    const live = openStore(file);
    assert.equal(live.runs.markInterrupted(), 0, 'the other process is still alive: its run is left alone');
    child.process.kill('SIGKILL');
    await child.exited;
    assert.equal(live.runs.markInterrupted(), 1);
    const [run] = live.runs.list({ limit: 1 });
    assert.equal(run?.outcome, 'failed');
    assert.ok(run?.finishedAt);
    assert.match(live.runs.get(run!.id)?.error?.message ?? '', /stopped before this run finished/);
    assert.equal(live.runs.markInterrupted(), 0);
    live.close();
  });
});

function runChild(file: string, mode: 'exit' | 'hang') {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.resolve('test/integration/store/store-child.ts'), file, mode],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const started = new Promise<void>((resolve) =>
    child.stdout.on('data', (d: Buffer) => d.toString().includes('started') && resolve()),
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, started, exited };
}

describe('store: verify runs (migration 3)', () => {
  it('a store made before verify runs keeps its runs and their children; verify runs are recorded and read back', () => {
    const file = storeFile(tmpDataDir());
    // A store as the previous version left it: migrations 1–2 and a sync run with children.
    const old = new Database(file);
    old.pragma('foreign_keys = ON');
    migrate(old, MIGRATIONS.slice(0, 2), file);
    const syncId = Number(
      old
        .prepare(
          `insert into runs (kind, trigger, outcome, started_at) values ('sync', 'cli', 'partial', '2026-01-01T00:00:00Z')`,
        )
        .run().lastInsertRowid,
    );
    for (const [position, database] of ['medic', '_users'].entries()) {
      old
        .prepare(`insert into run_databases values (?, ?, ?, ?, 'done', 10, 1, 2048, 1.5, null, '5', 1, null)`)
        .run(syncId, position, database, `h/${database}`);
    }
    old.prepare(`insert into run_skipped_docs values (?, 'medic', 0, 'bad', 'lone surrogate')`).run(syncId);
    old.close();

    const store = openStore(file);
    const kept = store.runs.get(syncId);
    assert.equal(kept?.databases?.length, 2);
    assert.deepEqual(kept?.databases?.[0]?.skipped, [{ id: 'bad', reason: 'lone surrogate' }]);

    const verifyId = store.runs.start('verify', 'manual');
    assert.ok(verifyId > syncId, 'ids keep growing after the rebuild');
    const medic = {
      database: 'medic',
      source: 'h/medic',
      outcome: 'done' as const,
      serverDocs: 10,
      rows: 11,
      missing: 1,
      stale: 0,
      purged: 2,
      outOfScope: 0,
      fetched: 1,
      marked: 2,
      samples: { missing: ['m'], stale: [], purged: ['p1', 'p2'], outOfScope: [] },
      seconds: 0.5,
    };
    const summary = store.runs.finishVerify(verifyId, {
      outcome: 'done',
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      isFix: true,
      databases: [medic],
    });
    assert.equal(summary.kind, 'verify');
    assert.match(
      summary.summary,
      /1 missing, 0 out of date, 2 gone from the server, fixed: 1 fetched, 2 marked deleted/,
    );
    assert.deepEqual(store.runs.get(verifyId)?.verify, [medic]);
    assert.deepEqual(
      store.runs.list({ kind: 'verify', limit: 10 }).map((r) => r.id),
      [verifyId],
    );
    store.close();
  });
});
