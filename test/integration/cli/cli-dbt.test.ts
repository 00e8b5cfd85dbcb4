import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTestDatabase } from '../../support/postgres';
import { cliBundleOptions } from '../../../resources/scripts/cli-bundle.mjs';

/**
 * `cht-sync dbt <command>` as a user runs it: a separate process, a dbt project folder with its
 * own profiles.yml (env_var() in it), dbt's exit codes (0 ok, 1 a node failed, 2 unusable),
 * target/ artifacts, and `--select` forms. The connection comes from the profile only.
 */
const TEST_BUNDLE = path.resolve('node_modules/.cache/cht-sync-test/cli-dbt.cjs');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve) => {
    const clean: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env))
      if (!/^(COUCHDB_|POSTGRES_|DBT_|CHT_SYNC_DATA_DIR|CHT_PIPELINE|DATAEMON)/.test(k)) clean[k] = v;
    const child = spawn(process.execPath, [TEST_BUNDLE, ...args], {
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function write(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
}

describe('cht-sync dbt', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dir: string;
  let dataDir: string;
  let env: Record<string, string>;
  before(async () => {
    const { build } = await import('esbuild');
    await build(cliBundleOptions(TEST_BUNDLE));
    db = await createTestDatabase('clidbt');
    dir = mkdtempSync(path.join(tmpdir(), 'cht-dbtcli-'));
    dataDir = mkdtempSync(path.join(tmpdir(), 'cht-dbtcli-data-'));
    const u = new URL(db.url);
    write(dir, {
      'dbt_project.yml': "name: 'cli_proj'\nversion: '1.0'\nconfig-version: 2\nprofile: cli_profile\n",
      'profiles.yml': `cli_profile:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: "{{ env_var('T_PG_HOST') }}"\n      port: "{{ env_var('T_PG_PORT') | as_number }}"\n      user: "{{ env_var('T_PG_USER') }}"\n      pass: "{{ env_var('T_PG_PASS', '') }}"\n      dbname: "{{ env_var('T_PG_DB') }}"\n      schema: analytics\n      threads: 2\n`,
      'seeds/people.csv': 'id,name\n1,Ann\n2,Bob\n',
      'models/staging/stg_people.sql': "select id, name from {{ ref('people') }}",
      'models/marts/people_report.sql':
        "{{ config(materialized='table') }}\nselect count(*) as n from {{ ref('stg_people') }}",
      'models/schema.yml':
        'version: 2\nmodels:\n  - name: stg_people\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n',
    });
    env = {
      T_PG_HOST: u.hostname,
      T_PG_PORT: u.port || '5432',
      T_PG_USER: decodeURIComponent(u.username),
      T_PG_PASS: decodeURIComponent(u.password),
      T_PG_DB: db.name,
      CHT_SYNC_DATA_DIR: dataDir,
    };
  });
  after(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const common = (): string[] => ['--project-dir', dir, '--profiles-dir', dir];

  it('build: seeds, models and tests from the profile’s target, exit 0, dbt-shaped artifacts', async () => {
    const ran = await cli(['dbt', 'build', ...common()], env);
    assert.equal(ran.code, 0, ran.stderr + ran.stdout);
    assert.match(ran.stdout, /Done\. PASS=5 WARN=0 ERROR=0 SKIP=0 TOTAL=5/);
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      const r = await pool.query('select n from analytics.people_report');
      assert.equal(Number(r.rows[0].n), 2);
    } finally {
      await pool.end();
    }
    const rr = JSON.parse(readFileSync(path.join(dir, 'target', 'run_results.json'), 'utf8')) as {
      metadata: { dbt_schema_version: string };
      results: { unique_id: string; status: string }[];
    };
    assert.equal(rr.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/run-results/v6.json');
    assert.deepEqual(rr.results.map((r) => `${r.unique_id.split('.').slice(0, 3).join('.')}:${r.status}`).sort(), [
      'model.cli_proj.people_report:success',
      'model.cli_proj.stg_people:success',
      'seed.cli_proj.people:success',
      'test.cli_proj.not_null_stg_people_id:pass',
      'test.cli_proj.unique_stg_people_id:pass',
    ]);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'target', 'manifest.json'), 'utf8')) as {
      metadata: { dbt_schema_version: string };
      parent_map: Record<string, string[]>;
    };
    assert.equal(manifest.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/manifest/v12.json');
    assert.deepEqual(manifest.parent_map['model.cli_proj.stg_people'], ['seed.cli_proj.people']);
  });

  it('ls with selector forms; --select that matches nothing warns and exits 0', async () => {
    const ls = await cli(['dbt', 'ls', ...common(), '--select', 'staging.*', 'people', '--output', 'name'], env);
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual(ls.stdout.trim().split('\n').sort(), [
      'not_null_stg_people_id',
      'people',
      'stg_people',
      'unique_stg_people_id',
    ]);
    const none = await cli(['dbt', 'run', ...common(), '--select', 'nothing_by_this_name'], env);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout + none.stderr, /'nothing_by_this_name' does not match any enabled nodes/);
  });

  it('compile, docs generate, source freshness, run-operation and debug', async () => {
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      await pool.query(
        `create schema if not exists raw; create table if not exists raw.events (id int, loaded_at timestamp); insert into raw.events values (1, now() - interval '2 hours')`,
      );
    } finally {
      await pool.end();
    }
    write(dir, {
      'models/sources.yml':
        'version: 2\nsources:\n  - name: raw\n    tables:\n      - name: events\n        loaded_at_field: loaded_at\n        freshness:\n          warn_after: {count: 1, period: hour}\n          error_after: {count: 1, period: day}\n',
      'macros/grant_note.sql':
        "{% macro say_hello(who) %}{% do log('hello ' ~ who, info=True) %}{{ return('hello ' ~ who) }}{% endmacro %}",
    });
    const compiled = await cli(['dbt', 'compile', ...common(), '--select', 'people_report'], env);
    assert.equal(compiled.code, 0, compiled.stderr);
    assert.match(compiled.stdout, /select count\(\*\) as n from "[^"]+"\."analytics"\."stg_people"/);
    assert.match(
      readFileSync(path.join(dir, 'target', 'compiled', 'cli_proj', 'models', 'marts', 'people_report.sql'), 'utf8'),
      /"analytics"\."stg_people"/,
    );
    const docs = await cli(['dbt', 'docs', 'generate', ...common()], env);
    assert.equal(docs.code, 0, docs.stderr);
    const catalog = JSON.parse(readFileSync(path.join(dir, 'target', 'catalog.json'), 'utf8')) as {
      nodes: Record<string, { metadata: { type: string }; columns: Record<string, { type: string; index: number }> }>;
      sources: Record<string, unknown>;
    };
    assert.deepEqual(catalog.nodes['model.cli_proj.stg_people']?.metadata.type, 'VIEW');
    assert.deepEqual(catalog.nodes['seed.cli_proj.people']?.columns.id, {
      type: 'integer',
      index: 1,
      name: 'id',
      comment: null,
    });
    assert.ok(catalog.sources['source.cli_proj.raw.events']);
    const fresh = await cli(['dbt', 'source', 'freshness', ...common()], env);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stdout, /raw\.events\s+WARN/);
    const op = await cli(['dbt', 'run-operation', 'say_hello', ...common(), '--args', '{who: dbt}'], env);
    assert.equal(op.code, 0, op.stderr);
    assert.match(op.stdout, /hello dbt/);
    const debug = await cli(['dbt', 'debug', ...common()], env);
    assert.equal(debug.code, 0, debug.stderr + debug.stdout);
    assert.match(debug.stdout, /target: dev/);
    assert.match(debug.stdout, /All checks passed!/);
    assert.doesNotMatch(debug.stdout + debug.stderr, new RegExp(`:${env.T_PG_PASS || 'no-password-set'}@`));
  });

  it('a failing test exits 1 and skips what depends on it; a broken project exits 2', async () => {
    write(dir, { 'seeds/people.csv': 'id,name\n1,Ann\n1,Bob\n' });
    const ran = await cli(['dbt', 'build', ...common()], env);
    assert.equal(ran.code, 1, ran.stderr + ran.stdout);
    assert.match(
      ran.stdout,
      /FAIL unique_stg_people_id: stg_people\.id has no duplicates — Got 1 result, configured to fail if != 0/,
    );
    assert.match(ran.stdout, /Done\. PASS=3 WARN=0 ERROR=1 SKIP=1 TOTAL=5/);
    write(dir, { 'models/broken.sql': "select {{ ref('no_such_model') }}" });
    const broken = await cli(['dbt', 'build', ...common()], env);
    assert.equal(broken.code, 2, broken.stderr + broken.stdout);
    assert.match(broken.stderr, /no_such_model/);
    assert.ok(existsSync(path.join(dir, 'target')));
  });
});
