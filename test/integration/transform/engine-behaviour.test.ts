import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { runTransform, type TransformOptions } from '../../../app/transform';
import { createTestDatabase } from '../../support/postgres';

/** Writes a small dbt project into a temp folder. */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cht-proj-'));
  for (const [rel, text] of Object.entries({
    'dbt_project.yml': "name: 'probe'\nversion: '1'\nconfig-version: 2\n",
    ...files,
  })) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

describe('engine behaviour on a real PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  before(async () => {
    db = await createTestDatabase('tbeh');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await pool.query('create schema v1; create table v1.ticks (model text, at timestamptz, what text)');
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });
  const run = (dir: string, o: Partial<TransformOptions> = {}): ReturnType<typeof runTransform> =>
    runTransform({
      project: { kind: 'path', path: dir },
      cacheDir: mkdtempSync(path.join(tmpdir(), 'cht-c-')),
      pool,
      database: db.name,
      schema: 'v1',
      table: 'couchdb',
      logger: silentLogger,
      ...o,
    });

  it('independent models run in parallel up to threads', async () => {
    const m = (name: string): string =>
      `{{ config(materialized='table', pre_hook="insert into v1.ticks values ('${name}', clock_timestamp(), 'start'); select pg_sleep(0.3)", post_hook="insert into v1.ticks values ('${name}', clock_timestamp(), 'end')") }}\nselect 1 as x`;
    const dir = project({ 'models/a.sql': m('a'), 'models/b.sql': m('b'), 'models/c.sql': m('c') });
    const out = await run(dir, { threads: 3 });
    assert.equal(out.result.outcome, 'done');
    const r = await pool.query(
      `select (select max(at) from v1.ticks where what='start') < (select min(at) from v1.ticks where what='end') as overlapped`,
    );
    assert.equal(r.rows[0].overlapped, true, 'all three started before any finished');
  });

  it('root generate_schema_name decides the schema', async () => {
    const dir = project({
      'macros/names.sql':
        '{% macro generate_schema_name(custom_schema_name, node) -%}{{ custom_schema_name if custom_schema_name else target.schema }}{%- endmacro %}',
      'models/m.sql': "{{ config(materialized='table', schema='reporting') }}\nselect 1 as x",
    });
    const out = await run(dir);
    assert.equal(out.result.outcome, 'done', JSON.stringify(out.result.models));
    const r = await pool.query(`select 1 from pg_tables where schemaname='reporting' and tablename='m'`);
    assert.equal(r.rowCount, 1);
  });

  it('a macro from a package that could not be fetched fails only the model that calls it, naming the macro', async () => {
    const dir = project({
      'packages.yml': 'packages:\n  - package: cht-sync-tests/absent_pkg\n    version: 1.0.0\n',
      'models/uses.sql': "select {{ absent_pkg.some_macro('x') }} as y",
      'models/fine.sql': 'select 1 as x',
    });
    const out = await run(dir);
    assert.equal(out.result.outcome, 'partial');
    assert.ok(out.result.warnings.some((w) => /absent_pkg/.test(w)));
    const uses = out.result.models.find((m) => m.model === 'uses')!;
    assert.equal(uses.status, 'error');
    assert.match(uses.error!.message, /absent_pkg\.some_macro comes from the package cht-sync-tests\/absent_pkg/);
    assert.equal(out.result.models.find((m) => m.model === 'fine')!.status, 'success');
  });

  it('env_var without a default names the variable; contract + incremental needs on_schema_change', async () => {
    const dir = project({
      'models/e.sql': "select '{{ env_var('CHT_SYNC_SURELY_UNSET_VAR') }}' as v",
      'models/k.sql': "{{ config(materialized='incremental', unique_key='x') }}\nselect 1 as x",
      'models/k.yml':
        'version: 2\nmodels:\n  - name: k\n    config:\n      contract: {enforced: true}\n    columns:\n      - name: x\n        data_type: int\n',
    });
    const out = await run(dir);
    const e = out.result.models.find((m) => m.model === 'e')!;
    assert.match(e.error!.message, /Environment variable CHT_SYNC_SURELY_UNSET_VAR is required/);
    assert.equal(e.error?.details?.line, 1);
    const k = out.result.models.find((m) => m.model === 'k')!;
    assert.match(k.error!.message, /must set on_schema_change to 'append_new_columns' or 'fail'/);
  });

  it('dbt_project.yml vars and model configs are rendered (env_var), hooks are not', async () => {
    const dir = project({
      'dbt_project.yml':
        "name: 'probe'\nversion: '1'\nconfig-version: 2\nvars:\n  region: \"{{ env_var('PROBE_REGION', 'north') }}\"\nmodels:\n  probe:\n    +schema: \"{{ env_var('PROBE_SCHEMA') }}\"\n    +post-hook: \"insert into v1.ticks values ('{{ this.name }}', now(), 'hook')\"\n",
      'models/r.sql': "{{ config(materialized='table') }}\nselect '{{ var('region') }}' as region",
    });
    const out = await run(dir, { env: { PROBE_SCHEMA: 'rendered' } });
    assert.equal(out.result.outcome, 'done', JSON.stringify(out.result.models));
    assert.deepEqual((await pool.query(`select region from v1_rendered.r`)).rows, [{ region: 'north' }]);
    assert.equal((await pool.query(`select 1 from v1.ticks where model = 'r' and what = 'hook'`)).rowCount, 1);
  });

  it('template errors name the file and line: syntax in a model, undefined names in a macro', async () => {
    const dir = project({
      'models/syn.sql': '\n\nselect 1 as x\n{% if %}\n',
      'macros/m.sql': '{% macro broken_macro() %}\n  {{ no_such_thing.attr }}\n{% endmacro %}',
    });
    const out = await run(dir);
    const syn = out.result.models.find((m) => m.model === 'syn')!;
    assert.equal(syn.error?.code, 'TEMPLATE_SYNTAX');
    assert.equal(syn.error?.details?.line, 4, 'the file’s own line, though dbt renders the text stripped');
    assert.equal(syn.error?.details?.file, 'probe/models/syn.sql');
    writeFileSync(path.join(dir, 'models/syn.sql'), 'select 1 as x');
    writeFileSync(path.join(dir, 'models/rt.sql'), 'select {{ broken_macro() }} as x');
    const out2 = await run(dir);
    const rt = out2.result.models.find((m) => m.model === 'rt')!;
    assert.equal(rt.error?.code, 'TEMPLATE_RUNTIME');
    assert.match(rt.error!.message, /no_such_thing/);
    assert.match(rt.error!.message, /probe\/macros\/m\.sql, line 2/);
  });

  it('parse errors stop the whole run before anything runs, as in dbt, and every one is reported', async () => {
    const dir = project({
      'models/good.sql': "{{ config(materialized='table') }}\nselect 1 as x",
      'models/nosrc.sql': "select * from {{ source('nowhere', 'tbl') }}",
      'models/syn2.sql': 'select {{ 1 + }}',
    });
    const out = await run(dir);
    assert.equal(out.result.outcome, 'failed');
    assert.deepEqual(out.result.models.map((m) => `${m.model}:${m.status}`).sort(), ['nosrc:error', 'syn2:error']);
    assert.match(
      out.result.models.find((m) => m.model === 'nosrc')!.error!.message,
      /source\('nowhere', 'tbl'\) is not declared/,
    );
    assert.ok(
      out.result.warnings.some((w) => /Nothing ran: 2 models/.test(w)),
      JSON.stringify(out.result.warnings),
    );
    assert.equal(
      (await pool.query(`select 1 from pg_tables where schemaname = 'v1' and tablename = 'good'`)).rowCount,
      0,
      'good was not built',
    );
  });

  it('sql_header, grants (revoked on incremental runs when removed), persist_docs, and on-run-start after the schemas exist', async () => {
    const role = `cht_ctx_reader_${Date.now().toString(36)}`;
    const role2 = `${role}_b`;
    await pool.query(`create role ${role}; create role ${role2}`);
    try {
      const inc = (grantees: string): string =>
        `{{ config(materialized='incremental', unique_key='x', grants={'select': [${grantees}]}) }}\nselect 1 as x`;
      const dir = project({
        'dbt_project.yml':
          "name: 'probe'\nversion: '1'\nconfig-version: 2\non-run-start:\n  - \"create table if not exists v1_hooked.started (at timestamptz)\"\nmodels:\n  probe:\n    +schema: hooked\n",
        'models/h.sql':
          "{% call set_sql_header(config) %}set local search_path = v1_hooked, public;{% endcall %}\n{{ config(materialized='table', persist_docs={'relation': true, 'columns': true}) }}\nselect current_setting('search_path') as sp, 1 as x",
        'models/h.yml':
          'version: 2\nmodels:\n  - name: h\n    description: "A documented model"\n    columns:\n      - name: x\n        description: "the x"\n',
        'models/g.sql': inc(`'${role}', '${role2}'`),
      });
      const out = await run(dir);
      assert.equal(out.result.outcome, 'done', JSON.stringify(out.result));
      assert.equal(
        (await pool.query(`select sp from v1_hooked.h`)).rows[0].sp,
        'v1_hooked, public',
        'sql_header ran before the create',
      );
      assert.equal(
        (await pool.query(`select obj_description('v1_hooked.h'::regclass) as d`)).rows[0].d,
        'A documented model',
      );
      assert.equal((await pool.query(`select col_description('v1_hooked.h'::regclass, 2) as d`)).rows[0].d, 'the x');
      const grantees = async (): Promise<string[]> =>
        (
          await pool.query(
            `select grantee from information_schema.role_table_grants where table_schema = 'v1_hooked' and table_name = 'g' and privilege_type = 'SELECT' and grantee like 'cht_ctx_reader%' order by 1`,
          )
        ).rows.map((r) => r.grantee as string);
      assert.deepEqual(await grantees(), [role, role2]);
      writeFileSync(path.join(dir, 'models/g.sql'), inc(`'${role}'`));
      const again = await run(dir);
      assert.equal(again.result.outcome, 'done', JSON.stringify(again.result));
      assert.deepEqual(await grantees(), [role], 'the grant no longer configured was revoked on the incremental run');
    } finally {
      await pool.query(
        `drop schema if exists v1_hooked cascade; drop role if exists ${role}; drop role if exists ${role2}`,
      );
    }
  });

  it('graph and selected_resources describe the project to templates', async () => {
    const dir = project({
      'models/ga.sql': "{{ config(materialized='table') }}\nselect 1 as x",
      'models/gb.sql':
        "{{ config(materialized='table') }}\nselect '{{ graph.nodes.get('model.probe.gb', {}).get('depends_on', {}).get('nodes', []) | join(',') }}' as deps, {{ selected_resources | length }} as n, {{ graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | list | length }} as models, '{{ graph.nodes.get('model.probe.ga', {}).get('fqn', []) | join('.') }}' as fqn from {{ ref('ga') }}",
    });
    const out = await run(dir, { select: ['+gb'] });
    assert.equal(out.result.outcome, 'done', JSON.stringify(out.result));
    assert.deepEqual((await pool.query('select deps, n, models, fqn from v1.gb')).rows, [
      { deps: 'model.probe.ga', n: 2, models: 2, fqn: 'probe.ga' },
    ]);
  });

  it('a PostgreSQL error points at the model file’s own line, not the wrapped statement’s', async () => {
    const dir = project({
      'models/badcol.sql': "\n{{ config(\n    materialized='table'\n) }}\nselect\n  1 as x,\n  nope_column as y\n",
    });
    const out = await run(dir);
    const m = out.result.models.find((x) => x.model === 'badcol')!;
    assert.equal(m.status, 'error');
    assert.match(m.error!.message, /nope_column/);
    assert.equal(m.error?.details?.line, 7, JSON.stringify(m.error?.details));
    assert.equal(m.error?.details?.compiledLine, 4);
  });

  it('a cycle fails the run and prints it', async () => {
    const dir = project({
      'models/x.sql': "select * from {{ ref('y') }}",
      'models/y.sql': "select * from {{ ref('x') }}",
    });
    const out = await run(dir);
    assert.equal(out.result.outcome, 'failed');
    assert.equal(out.result.models[0]?.error?.code, 'GRAPH_CYCLE');
    assert.match(out.result.models[0]!.error!.message, /x → y → x|y → x → y/);
  });
});

describe('cancellation', () => {
  it('an aborted run skips what has not started and reports cancelled', async () => {
    const db = await createTestDatabase('tcan');
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const dir = project({
        'models/a.sql': "{{ config(materialized='table') }}\nselect 1 as x",
        'models/b.sql': "select * from {{ ref('a') }}",
      });
      const ac = new AbortController();
      ac.abort();
      const out = await runTransform({
        project: { kind: 'path', path: dir },
        cacheDir: mkdtempSync(path.join(tmpdir(), 'cht-c-')),
        pool,
        database: db.name,
        schema: 'v1',
        table: 'couchdb',
        logger: silentLogger,
        signal: ac.signal,
      });
      assert.equal(out.result.outcome, 'cancelled');
      assert.deepEqual(
        out.result.models.map((m) => m.status),
        ['skipped', 'skipped'],
      );
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
