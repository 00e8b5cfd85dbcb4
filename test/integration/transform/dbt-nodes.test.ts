import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { ModelRunResult } from '../../../app/contract/dto';
import { silentLogger } from '../../../app/core/logger';
import { runTransform, type TransformOptions } from '../../../app/transform';
import type { RunArtifacts } from '../../../app/transform/run-transform';
import { buildManifest, buildRunResults } from '../../../app/transform/run/artifacts';
import { createTestDatabase } from '../../support/postgres';

/**
 * Seeds, snapshots, data tests (generic, singular, package-style `{% test %}`), unit tests
 * and `build`'s gating, on a real PostgreSQL. The first test's statuses, test names and seed
 * column types are what dbt-core 1.10.23 + dbt-postgres gave on this same project (`dbt build`:
 * PASS=11 WARN=1 ERROR=1 SKIP=1; order_report skipped); the snapshot test's history rows are
 * what `dbt snapshot` then `dbt build` left on the same sequence of source changes.
 */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cht-dbt-'));
  for (const [rel, text] of Object.entries({
    'dbt_project.yml':
      "name: 'shop'\nversion: '1'\nconfig-version: 2\nseeds:\n  shop:\n    +column_types:\n      zip: text\n",
    ...files,
  })) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const SHOP = {
  'seeds/customers.csv':
    'id,name,score,joined,vip,zip,seen_at\n1,Ann,1.5,2024-01-02,true,01234,2024-01-02 10:00:00\n2,Bob,2,2024-02-03,False,02345,2024-02-03 11:00:00\n3,,,,,,\n',
  'seeds/statuses.csv': 'status\nopen\nclosed\n',
  'models/staging/stg_customers.sql': "select id, name, score from {{ ref('customers') }}",
  'models/staging/stg_orders.sql':
    "{{ config(materialized='table') }}\nselect * from (values (1, 1, 'open'), (2, 2, 'lost'), (3, 9, 'closed')) as t(id, customer_id, status)",
  'models/marts/order_report.sql':
    "select o.id, c.name from {{ ref('stg_orders') }} o left join {{ ref('stg_customers') }} c on c.id = o.customer_id",
  'models/marts/customer_report.sql':
    "{{ config(materialized='table') }}\nselect id, name from {{ ref('stg_customers') }}",
  'models/schema.yml': `version: 2
models:
  - name: stg_customers
    columns:
      - name: id
        data_tests: [unique, not_null]
      - name: name
        data_tests:
          - not_null:
              config:
                severity: warn
  - name: stg_orders
    columns:
      - name: status
        data_tests:
          - accepted_values:
              arguments:
                values: ['open', 'closed']
      - name: customer_id
        data_tests:
          - relationships:
              to: ref('stg_customers')
              field: id
              config:
                where: "id < 3"
      - name: id
        data_tests:
          - positive:
              config:
                store_failures: true
unit_tests:
  - name: report_joins_names
    model: customer_report
    given:
      - input: ref('stg_customers')
        rows:
          - {id: 7, name: Zed}
    expect:
      rows:
        - {id: 7, name: Zed}
`,
  'tests/generic/positive.sql':
    '{% test positive(model, column_name) %}\nselect * from {{ model }} where {{ column_name }} <= 0\n{% endtest %}',
  'tests/no_orders_without_id.sql': "select * from {{ ref('stg_orders') }} where id is null",
};

describe('dbt node kinds: seeds, tests, unit tests, snapshots, build gating', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  before(async () => {
    db = await createTestDatabase('tdbtn');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
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
      schema: 'shop',
      table: 'couchdb',
      logger: silentLogger,
      ...o,
    });
  const byName = (models: ModelRunResult[]): Map<string, ModelRunResult> => new Map(models.map((m) => [m.model, m]));

  it('build: seeds with inferred types, tests gate descendants, unit tests gate their model', async () => {
    const dir = project(SHOP);
    let artifacts: RunArtifacts | null = null;
    const out = await run(dir, {
      resourceTypes: ['model', 'seed', 'snapshot', 'test', 'unit_test'],
      build: true,
      onArtifacts: (a) => (artifacts = a),
    });
    const m = byName(out.result.models);
    const st = (n: string): string | undefined =>
      m.get(n)?.status === 'error' ? `error: ${m.get(n)?.error?.message}` : m.get(n)?.status;
    assert.equal(st('customers'), 'success');
    assert.equal(m.get('customers')?.rowsAffected, 3);
    // agate's inference: integer, float8 (a decimal), date, boolean (case-insensitive), column_types wins, timestamp.
    const cols = await pool.query(
      `select column_name, data_type from information_schema.columns where table_schema = 'shop' and table_name = 'customers' order by ordinal_position`,
    );
    assert.deepEqual(
      cols.rows.map((r) => `${r.column_name}:${r.data_type}`),
      [
        'id:integer',
        'name:text',
        'score:double precision',
        'joined:date',
        'vip:boolean',
        'zip:text',
        'seen_at:timestamp without time zone',
      ],
    );
    const zip = await pool.query(`select zip, vip from shop.customers order by id`);
    assert.deepEqual(zip.rows, [
      { zip: '01234', vip: true },
      { zip: '02345', vip: false },
      { zip: null, vip: null },
    ]);

    assert.equal(st('unique_stg_customers_id'), 'pass');
    assert.equal(st('not_null_stg_customers_id'), 'pass');
    const warned = m.get('not_null_stg_customers_name')!;
    assert.equal(warned.status, 'warn', 'severity: warn');
    assert.equal(warned.failures, 1);
    assert.equal(warned.description, 'stg_customers.name is never empty');
    assert.deepEqual(warned.failingRows, [{ name: null }]);
    const av = m.get('accepted_values_stg_orders_status__open__closed')!;
    assert.equal(av.status, 'fail');
    assert.equal(av.message, 'Got 1 result, configured to fail if != 0');
    // `where: id < 3` keeps the dangling customer 9 (order 3) out of the relationships test.
    assert.equal(st('relationships_stg_orders_customer_id__id__ref_stg_customers_'), 'pass');
    assert.equal(st('positive_stg_orders_id'), 'pass');
    const stored = await pool.query(`select count(*)::int as n from shop_dbt_test__audit.positive_stg_orders_id`);
    assert.equal(stored.rows[0].n, 0, 'store_failures kept the (empty) failing rows');
    assert.equal(st('no_orders_without_id'), 'pass');
    assert.equal(st('report_joins_names'), 'pass');
    assert.equal(st('customer_report'), 'success', 'its unit test passed');
    // The failing accepted_values test on stg_orders skips what is downstream of stg_orders; a warning does not.
    assert.equal(st('order_report'), 'skipped');
    assert.match(m.get('order_report')!.skippedBecause ?? '', /accepted_values/);
    assert.equal(out.result.outcome, 'partial');

    const a = artifacts as RunArtifacts | null;
    assert.ok(a);
    const rr = buildRunResults(a, { which: 'build' }) as {
      results: { unique_id: string; status: string; failures: number | null }[];
      metadata: { dbt_schema_version: string };
    };
    assert.equal(rr.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/run-results/v6.json');
    assert.equal(rr.results.length, out.result.models.length);
    assert.deepEqual(
      rr.results.find((r) => r.unique_id.startsWith('test.shop.not_null_stg_customers_name'))?.failures,
      1,
    );
    const manifest = buildManifest(a) as {
      nodes: Record<string, { resource_type: string; depends_on: { nodes: string[] } }>;
      unit_tests: Record<string, unknown>;
      child_map: Record<string, string[]>;
    };
    assert.equal(manifest.nodes['seed.shop.customers']?.resource_type, 'seed');
    assert.deepEqual(manifest.nodes['model.shop.stg_customers']?.depends_on.nodes, ['seed.shop.customers']);
    assert.ok(manifest.unit_tests['unit_test.shop.customer_report.report_joins_names']);
  });

  it('a failing unit test skips its model; test alone runs tests only; selection forms', async () => {
    const dir = project({
      ...SHOP,
      'models/schema.yml': SHOP['models/schema.yml'].replace(
        '- {id: 7, name: Zed}\n    expect:\n      rows:\n        - {id: 7, name: Zed}',
        '- {id: 7, name: Zed}\n    expect:\n      rows:\n        - {id: 7, name: Amy}',
      ),
    });
    const out = await run(dir, {
      resourceTypes: ['model', 'seed', 'snapshot', 'test', 'unit_test'],
      build: true,
      select: ['+customer_report'],
    });
    const m = byName(out.result.models);
    assert.equal(m.get('report_joins_names')?.status, 'fail');
    assert.equal(m.get('customer_report')?.status, 'skipped');
    assert.ok(!m.has('order_report'), 'not selected');

    const tests = await run(dir, { resourceTypes: ['test', 'unit_test'], select: ['stg_orders'] });
    assert.deepEqual([...byName(tests.result.models).keys()].sort(), [
      'accepted_values_stg_orders_status__open__closed',
      'no_orders_without_id',
      'positive_stg_orders_id',
      'relationships_stg_orders_customer_id__id__ref_stg_customers_',
    ]);

    const names = async (
      select: string[],
      types: TransformOptions['resourceTypes'] = ['model', 'seed'],
    ): Promise<string[]> => {
      let sel: string[] = [];
      const r = await run(dir, {
        resourceTypes: types,
        select,
        parseOnly: true,
        onArtifacts: (a) => (sel = a.selected.map((id) => a.graph.nodes.get(id)!.name)),
      });
      assert.equal(r.result.outcome, 'done', `${select.join(' ')}: ${r.result.warnings.join('; ')}`);
      return sel.sort();
    };
    assert.deepEqual(await names(['staging.*']), ['stg_customers', 'stg_orders']);
    assert.deepEqual(await names(['shop.marts.*']), ['customer_report', 'order_report']);
    assert.deepEqual(await names(['stg_*']), ['stg_customers', 'stg_orders']);
    assert.deepEqual(await names(['config.materialized:table']), ['customer_report', 'stg_orders']);
    assert.deepEqual(await names(['customers+']), ['customer_report', 'customers', 'order_report', 'stg_customers']);
    assert.deepEqual(await names(['resource_type:seed']), ['customers', 'statuses']);
    assert.deepEqual(await names(['stg_orders', 'customers']), ['customers', 'stg_orders'], '--select a b is a union');
    const none = await run(dir, { select: ['no_such_model'] });
    assert.equal(none.result.outcome, 'done');
    assert.ok(none.result.warnings.some((w) => w.includes("'no_such_model' does not match any enabled nodes")));
  });

  it('source:x+ selects what reads the source', async () => {
    await pool.query(`create schema if not exists raw; create table if not exists raw.events (id int, at timestamp)`);
    const dir = project({
      'models/src.yml':
        'version: 2\nsources:\n  - name: raw\n    tables:\n      - name: events\n        columns:\n          - name: id\n            data_tests: [not_null]\n',
      'models/ev.sql': "select * from {{ source('raw', 'events') }}",
      'models/other.sql': 'select 1 as x',
    });
    let sel: string[] = [];
    await run(dir, {
      resourceTypes: ['model', 'test'],
      select: ['source:raw+'],
      parseOnly: true,
      onArtifacts: (a) => (sel = a.selected.map((id) => a.graph.nodes.get(id)!.name)),
    });
    assert.deepEqual(sel.sort(), ['ev', 'source_not_null_raw_events_id']);
  });

  it('snapshots: timestamp strategy keeps history and invalidates hard deletes; check strategy', async () => {
    await pool.query(
      `create schema if not exists app; drop table if exists app.people; create table app.people (id int, name text, updated timestamp); insert into app.people values (1, 'a', '2024-01-01'), (2, 'b', '2024-01-01')`,
    );
    const dir = project({
      'snapshots/people.sql': `{% snapshot people_snap %}
{{ config(target_schema='snaps', unique_key='id', strategy='timestamp', updated_at='updated', invalidate_hard_deletes=True) }}
select * from app.people
{% endsnapshot %}
{% snapshot people_check %}
{{ config(unique_key='id', strategy='check', check_cols=['name']) }}
select id, name from app.people
{% endsnapshot %}`,
      'models/current_people.sql': "select id, name from {{ ref('people_snap') }} where dbt_valid_to is null",
    });
    const first = await run(dir, { resourceTypes: ['snapshot'] });
    assert.equal(first.result.outcome, 'done', JSON.stringify(first.result.models));
    await pool.query(
      `update app.people set name = 'a2', updated = '2024-02-01' where id = 1; delete from app.people where id = 2`,
    );
    const second = await run(dir, { resourceTypes: ['snapshot', 'model'], build: true });
    assert.equal(second.result.outcome, 'done', JSON.stringify(second.result.models));
    const hist = await pool.query(
      `select id, name, dbt_valid_from::text, dbt_valid_to is not null as closed, length(dbt_scd_id) as h from snaps.people_snap order by id, dbt_valid_from`,
    );
    assert.deepEqual(
      hist.rows.map((r) => `${r.id}:${r.name}:${r.dbt_valid_from}:${r.closed}:${r.h}`),
      ['1:a:2024-01-01 00:00:00:true:32', '1:a2:2024-02-01 00:00:00:false:32', '2:b:2024-01-01 00:00:00:true:32'],
    );
    const current = await pool.query(`select id, name from shop.current_people order by id`);
    assert.deepEqual(current.rows, [{ id: 1, name: 'a2' }], 'ref() to a snapshot');
    const check = await pool.query(
      `select id, name, dbt_valid_to is null as open from shop.people_check order by id, dbt_valid_from`,
    );
    assert.deepEqual(
      check.rows,
      [
        { id: 1, name: 'a', open: false },
        { id: 1, name: 'a2', open: true },
        { id: 2, name: 'b', open: true },
      ],
      'check strategy without hard deletes keeps 2 open',
    );
  });
});
