import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { runTransform } from '../../../app/transform';
import {
  checkConnection,
  listNodes,
  prepareDbtRun,
  resolveDbtTarget,
  runOperation,
  sourceFreshness,
  type DbtTarget,
  type RunArtifacts,
} from '../../../app/transform/dbt-invocation';
import { withPgSession } from '../../../app/transform/materialize/pg-session';
import { createTestDatabase } from '../../support/postgres';

/**
 * The transform's entry for `cht-sync dbt` (app/transform/dbt-invocation.ts), called as the CLI
 * calls it: the paths test/integration/cli/cli-dbt.test.ts does not reach (failures, the
 * connection closed after an error, the password kept out of messages).
 */
function write(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
}

const TARGET: DbtTarget = {
  profile: 'p',
  target: 'dev',
  host: 'db.example.org',
  port: 5433,
  user: 'ann',
  password: 'pa@ss/word',
  dbname: 'warehouse',
  schema: 'analytics',
  threads: 3,
  sslmode: null,
  file: '/x/profiles.yml',
  url: 'postgres://ann:pa%40ss%2Fword@db.example.org:5433/warehouse',
};

describe('dbt invocation: target and run options (no database)', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('resolveDbtTarget: the profile’s connection as a URL (password encoded), the named target', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-dbtinv-'));
    dirs.push(dir);
    write(dir, {
      'dbt_project.yml': "name: 'p'\nversion: '1'\nconfig-version: 2\nprofile: prof\n",
      'profiles.yml':
        'prof:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: h1\n      port: 5432\n      user: u\n      pass: "{{ env_var(\'T_PASS\') }}"\n      dbname: d1\n      schema: s1\n      threads: 2\n    prod:\n      type: postgres\n      host: h2\n      port: 6543\n      user: u\n      pass: x\n      dbname: d2\n      schema: s2\n      threads: 8\n      sslmode: require\n',
    });
    const dev = await resolveDbtTarget({ projectDir: dir, env: { T_PASS: 'p@ss:w/rd' } });
    assert.ok(dev);
    assert.equal(dev.target, 'dev');
    assert.equal(dev.schema, 's1');
    const u = new URL(dev.url);
    assert.equal(decodeURIComponent(u.password), 'p@ss:w/rd');
    assert.equal(`${u.hostname}:${u.port}${u.pathname}`, 'h1:5432/d1');
    const prod = await resolveDbtTarget({ projectDir: dir, target: 'prod', env: {} });
    assert.equal(prod?.url, 'postgres://u:x@h2:6543/d2?sslmode=require');
    await assert.rejects(
      resolveDbtTarget({ projectDir: dir, target: 'staging', env: {} }),
      /staging/,
      'an unknown target is named',
    );
  });

  it(
    'resolveDbtTarget: no profiles.yml is null, unless --target asks for one (the error names --target)',
    { skip: existsSync(path.join(os.homedir(), '.dbt', 'profiles.yml')) && 'this machine has ~/.dbt/profiles.yml' },
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'cht-dbtinv-'));
      dirs.push(dir);
      write(dir, { 'dbt_project.yml': "name: 'p'\nversion: '1'\nconfig-version: 2\nprofile: prof\n" });
      assert.equal(await resolveDbtTarget({ projectDir: dir, env: {} }), null);
      await assert.rejects(
        resolveDbtTarget({ projectDir: dir, target: 'prod', env: {} }),
        /--target prod needs a profiles\.yml/,
      );
    },
  );

  it('prepareDbtRun: each command’s node kinds, --resource-type for ls/build/test only, threads', () => {
    assert.deepEqual(prepareDbtRun('run', {}, null).options.resourceTypes, ['model']);
    assert.deepEqual(prepareDbtRun('test', {}, null).options.resourceTypes, ['test', 'unit_test']);
    const build = prepareDbtRun('build', { resourceTypes: ['seed, model', 'test'], failFast: true }, null).options;
    assert.deepEqual(build.resourceTypes, ['seed', 'model', 'test']);
    assert.equal(build.build, true);
    assert.equal(build.failFast, true);
    assert.deepEqual(prepareDbtRun('seed', { resourceTypes: ['model'] }, null).options.resourceTypes, ['seed']);
    assert.equal(prepareDbtRun('compile', {}, null).options.compileOnly, true);
    for (const c of ['ls', 'docs generate', 'source freshness'] as const)
      assert.equal(prepareDbtRun(c, {}, null).options.parseOnly, true, c);
    assert.equal(prepareDbtRun('run', {}, null).options.parseOnly, false);
    const fromTarget = prepareDbtRun('run', {}, TARGET).options;
    assert.equal(fromTarget.threads, 3);
    assert.equal(fromTarget.target?.threads, 3);
    assert.equal(fromTarget.target?.profileName, 'p');
    assert.equal(fromTarget.target?.database, 'warehouse');
    assert.ok(!JSON.stringify(fromTarget.target).includes('word'), 'the target info holds no password');
    const flagged = prepareDbtRun('run', { threads: 5 }, TARGET).options;
    assert.equal(flagged.threads, 5);
    assert.equal(flagged.target?.threads, 5);
    const op = prepareDbtRun('run-operation', { threads: 5 }, TARGET);
    assert.deepEqual(
      { ...op.options, onArtifacts: undefined, target: undefined },
      {
        parseOnly: true,
        resourceTypes: ['model'],
        onArtifacts: undefined,
        target: undefined,
      },
    );
    assert.equal(op.options.target?.threads, undefined);
    assert.equal(op.artifacts(), null);
  });
});

describe('dbt invocation: ls, source freshness, run-operation, connections (PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let dir: string;
  let a: RunArtifacts;
  before(async () => {
    db = await createTestDatabase('tdbtinv');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await pool.query(
      `create schema raw;
       create table raw.events (id int, loaded_at timestamp); insert into raw.events values (1, now() - interval '2 hours');
       create table raw.stale (id int, loaded_at timestamp); insert into raw.stale values (1, now() - interval '3 days');
       create table raw.fresh (id int, loaded_at timestamp); insert into raw.fresh values (1, now());
       create table raw.broken (id int);`,
    );
    dir = mkdtempSync(path.join(tmpdir(), 'cht-dbtinv-'));
    const fresh =
      'freshness:\n          warn_after: {count: 1, period: hour}\n          error_after: {count: 1, period: day}';
    write(dir, {
      'dbt_project.yml': "name: 'inv'\nversion: '1'\nconfig-version: 2\n",
      'models/sources.yml': `version: 2\nsources:\n  - name: raw\n    tables:\n      - name: events\n        loaded_at_field: loaded_at\n        ${fresh}\n      - name: stale\n        loaded_at_field: loaded_at\n        ${fresh}\n      - name: fresh\n        loaded_at_field: loaded_at\n        ${fresh}\n      - name: broken\n        loaded_at_field: no_such_column\n        ${fresh}\n      - name: plain\n`,
      'models/staging/stg_events.sql': "select id from {{ source('raw', 'events') }}",
      'macros/ops.sql':
        "{% macro greet(who) %}{{ return('hello ' ~ who) }}{% endmacro %}\n" +
        "{% macro make_then_fail() %}{% do run_query('create table raw.made_by_op (x int)') %}{{ exceptions.raise_compiler_error('op failed on purpose') }}{% endmacro %}\n" +
        "{% macro make_table() %}{% do run_query('create table raw.kept_by_op (x int)') %}{% endmacro %}",
    });
    const run = prepareDbtRun('ls', {}, null);
    const out = await runTransform({
      project: { kind: 'path', path: dir },
      cacheDir: mkdtempSync(path.join(tmpdir(), 'cht-dbtinv-c-')),
      pool,
      database: db.name,
      schema: 'analytics',
      table: 'couchdb',
      logger: silentLogger,
      ...run.options,
    });
    assert.equal(out.result.outcome, 'done', out.result.warnings.join('; '));
    const got = run.artifacts();
    assert.ok(got, 'the run handed back its artifacts');
    a = got;
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('listNodes: dbt’s selector, name, path and json forms', () => {
    assert.deepEqual(listNodes(a).sort(), [
      'inv.staging.stg_events',
      'source:inv.raw.broken',
      'source:inv.raw.events',
      'source:inv.raw.fresh',
      'source:inv.raw.plain',
      'source:inv.raw.stale',
    ]);
    assert.ok(listNodes(a, 'name').includes('stg_events'));
    assert.ok(
      listNodes(a, 'path').includes(path.join('models', 'staging', 'stg_events.sql').split(path.sep).join('/')),
    );
    const json = listNodes(a, 'json').map((l) => JSON.parse(l) as { unique_id: string; resource_type: string });
    assert.ok(json.some((n) => n.unique_id === 'model.inv.stg_events' && n.resource_type === 'model'));
  });

  it('sourceFreshness: pass, warn and error by age; a failing query is a runtime error and the others still run', async () => {
    const rows = await sourceFreshness(a, db.url, silentLogger, dir);
    const by = new Map(rows.map((r) => [r.source, r]));
    assert.deepEqual([...by.keys()].sort(), ['raw.broken', 'raw.events', 'raw.fresh', 'raw.stale']);
    assert.equal(by.get('raw.fresh')?.status, 'pass');
    assert.equal(by.get('raw.events')?.status, 'warn');
    assert.ok((by.get('raw.events')?.ageSeconds ?? 0) > 7000);
    assert.equal(by.get('raw.stale')?.status, 'error');
    assert.equal(by.get('raw.broken')?.status, 'runtime error');
    assert.match(by.get('raw.broken')?.error ?? '', /no_such_column/);
    const sources = JSON.parse(readFileSync(path.join(dir, 'target', 'sources.json'), 'utf8')) as {
      results: { unique_id: string; status: string }[];
    };
    assert.deepEqual(sources.results.map((r) => `${r.unique_id}:${r.status}`).sort(), [
      'source.inv.raw.broken:runtime error',
      'source.inv.raw.events:warn',
      'source.inv.raw.fresh:pass',
      'source.inv.raw.stale:error',
    ]);
  });

  it('runOperation: the return value; an unknown macro; a raising macro rolls back what it did', async () => {
    assert.deepEqual(await runOperation(a, db.url, silentLogger, 'greet', { who: 'dbt' }), {
      status: 'ok',
      output: 'hello dbt',
    });
    assert.deepEqual(await runOperation(a, db.url, silentLogger, 'inv.greet', { who: 'pkg' }), {
      status: 'ok',
      output: 'hello pkg',
    });
    assert.deepEqual(await runOperation(a, db.url, silentLogger, 'no_such_macro', {}), { status: 'no-macro' });
    const failed = await runOperation(a, db.url, silentLogger, 'make_then_fail', {});
    assert.equal(failed.status, 'failed');
    assert.match(failed.status === 'failed' ? failed.message : '', /op failed on purpose/);
    assert.equal((await pool.query(`select to_regclass('raw.made_by_op') as r`)).rows[0].r, null, 'rolled back');
    assert.deepEqual(await runOperation(a, db.url, silentLogger, 'make_table', {}), { status: 'ok', output: '' });
    assert.equal((await pool.query(`select to_regclass('raw.kept_by_op')::text as r`)).rows[0].r, 'raw.kept_by_op');
  });

  it('withPgSession closes its connection when the job throws', async () => {
    const others = async (): Promise<number> =>
      Number(
        (
          await pool.query(
            `select count(*) as n from pg_stat_activity where datname = current_database() and application_name = 'dbt-invocation-test'`,
          )
        ).rows[0].n,
      );
    const url = new URL(db.url);
    url.searchParams.set('application_name', 'dbt-invocation-test');
    await assert.rejects(
      withPgSession(url.toString(), silentLogger, async (session) => {
        await session.query('select 1');
        assert.equal(await others(), 1, 'the job’s connection is open while it runs');
        throw new Error('the job failed');
      }),
      /the job failed/,
    );
    let n = await others();
    for (let i = 0; i < 40 && n > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      n = await others();
    }
    assert.equal(n, 0, 'no connection left behind');
  });

  it('checkConnection: ok; a failure says why without the password', async () => {
    assert.deepEqual(await checkConnection(db.url, silentLogger), { ok: true });
    const bad = new URL(db.url);
    bad.username = 'no_such_role_here';
    bad.password = 'Sup3r-secret-pw';
    const failed = await checkConnection(bad.toString(), silentLogger);
    assert.equal(failed.ok, false);
    const message = failed.ok ? '' : failed.message;
    assert.ok(message.length > 0);
    assert.ok(!message.includes('Sup3r-secret-pw'), message);
  });
});
