import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { Relation } from '../../../app/transform/context/relation';
import { materialize } from '../../../app/transform/materialize/materialize';
import { wrapClient, type PgSession } from '../../../app/transform/materialize/pg-session';
import type { MaterializeInput } from '../../../app/transform/materialize/types';
import { createTestDatabase } from '../../support/postgres';

/** Materialization strategies on a real PostgreSQL, without templates. */
describe('materializations (dbt-postgres sequences)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let client: pg.PoolClient;
  let s: PgSession;

  before(async () => {
    db = await createTestDatabase('tmat');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    client = await pool.connect();
    s = wrapClient(client, silentLogger);
    await s.script(`create schema v1;
      create table v1.src (id text primary key, ts timestamp, deleted boolean, v int);
      insert into v1.src values ('a','2024-01-01 10:00:00.123456',false,1),('b','2024-01-01 10:00:00.123457',false,2),('c','2024-01-01 10:00:01',true,3);`);
  });
  after(async () => {
    client.release();
    await pool.end();
    await db.drop();
  });

  const rel = (name: string, type: Relation['type'] = 'table'): Relation =>
    new Relation({ database: db.name, schema: 'v1', identifier: name, type });
  const existing = async (name: string): Promise<Relation | null> => {
    const r = await s.query(
      `select relkind from pg_class c join pg_namespace n on n.oid=c.relnamespace where nspname='v1' and relname=$1`,
      [name],
    );
    const k = r.rows[0]?.relkind;
    return k ? rel(name, k === 'v' ? 'view' : k === 'm' ? 'materialized_view' : 'table') : null;
  };
  const input = async (
    over: Partial<MaterializeInput> & { model: string; sql: string },
  ): Promise<MaterializeInput> => ({
    session: s,
    file: `models/${over.model}.sql`,
    config: {},
    materialized: 'table',
    target: rel(over.model, over.materialized === 'view' ? 'view' : 'table'),
    existing: await existing(over.model),
    fullRefresh: false,
    columns: [],
    constraints: [],
    contractEnforced: false,
    preHooks: [],
    postHooks: [],
    render: async (t) => t.replace('{{ this }}', rel(over.model).render()),
    logger: silentLogger,
    pgVersion: 150000,
    ...over,
  });
  const rows = async (sql: string): Promise<unknown[]> => (await s.query(sql)).rows;

  const parentCols = [
    { name: 'id', dataType: 'string', description: '', constraints: [{ type: 'unique' }], tests: [], quote: false },
    { name: 'ts', dataType: 'timestamp', description: '', constraints: [], tests: [], quote: false },
    { name: 'deleted', dataType: 'boolean', description: '', constraints: [], tests: [], quote: false },
  ];
  const childCols = [
    {
      name: 'id',
      dataType: 'string',
      description: '',
      constraints: [{ type: 'foreign_key', expression: 'v1.parent (id) ON DELETE CASCADE' }],
      tests: [],
      quote: false,
    },
    { name: 'v', dataType: 'integer', description: '', constraints: [{ type: 'not_null' }], tests: [], quote: false },
  ];

  it('builds a contracted incremental table with YAML column order, constraints and indexes, then delete+inserts', async () => {
    const cfg = {
      unique_key: 'id',
      indexes: [{ columns: ['id'], type: 'hash' }, { columns: ['ts'] }],
      on_schema_change: 'append_new_columns',
    };
    const sql = `select deleted, id, ts from v1.src`;
    const first = await materialize(
      await input({
        model: 'parent',
        materialized: 'incremental',
        config: cfg,
        sql,
        columns: parentCols,
        contractEnforced: true,
        postHooks: [{ sql: 'delete from {{ this }} where deleted', transaction: true }],
      }),
    );
    assert.match(
      first.statements[0]!,
      /create table "tmat[^"]*"\."v1"\."parent"\n\(\n {4}id TEXT unique,\n {4}ts TIMESTAMP,\n {4}deleted BOOLEAN\n\)/,
    );
    assert.equal(first.rowsAffected, 3);
    assert.deepEqual(await rows(`select id, ts from v1.parent order by id`), [
      { id: 'a', ts: '2024-01-01 10:00:00.123456' },
      { id: 'b', ts: '2024-01-01 10:00:00.123457' },
    ]);
    const cols = await rows(
      `select column_name from information_schema.columns where table_schema='v1' and table_name='parent' order by ordinal_position`,
    );
    assert.deepEqual(
      cols.map((c) => (c as { column_name: string }).column_name),
      ['id', 'ts', 'deleted'],
    );
    const idx = await rows(
      `select indexdef from pg_indexes where schemaname='v1' and tablename='parent' order by indexdef`,
    );
    assert.equal(idx.filter((i) => /USING hash \(id\)/.test((i as { indexdef: string }).indexdef)).length, 1);

    await materialize(
      await input({
        model: 'child',
        materialized: 'incremental',
        config: { unique_key: 'id' },
        sql: `select id, v from v1.src where not deleted`,
        columns: childCols,
        contractEnforced: true,
      }),
    );
    assert.equal((await rows('select * from v1.child')).length, 2);

    // Incremental: an update of b, a new row d; indexes are not created again.
    await s.script(
      `update v1.src set ts='2024-01-02 00:00:00.000001', v=20 where id='b'; insert into v1.src values ('d','2024-01-02 00:00:00.5',false,4);`,
    );
    const second = await materialize(
      await input({
        model: 'parent',
        materialized: 'incremental',
        config: cfg,
        sql: `${sql} where ts >= '2024-01-02'`,
        columns: parentCols,
        contractEnforced: true,
      }),
    );
    assert.ok(second.statements.some((x) => /^create temporary table "parent__dbt_tmp\d{12}"/.test(x)));
    assert.ok(
      second.statements.some((x) =>
        /delete from "tmat[^"]*"\."v1"\."parent" as DBT_INTERNAL_DEST\n {4}where \(id\) in \(/.test(x),
      ),
    );
    assert.ok(!second.statements.some((x) => /create index/.test(x)));
    assert.equal(second.rowsAffected, 2);
    assert.deepEqual(await rows(`select id, ts from v1.parent order by id`), [
      { id: 'a', ts: '2024-01-01 10:00:00.123456' },
      { id: 'b', ts: '2024-01-02 00:00:00.000001' },
      { id: 'd', ts: '2024-01-02 00:00:00.5' },
    ]);
    // The delete of b cascaded to the child.
    assert.deepEqual(await rows(`select id from v1.child order by id`), [{ id: 'a' }]);
  });

  it('fails a contract whose types differ, naming the column', async () => {
    await assert.rejects(
      materialize(
        await input({
          model: 'bad',
          materialized: 'table',
          sql: `select 1 as id`,
          columns: [parentCols[0]!],
          contractEnforced: true,
        }),
      ),
      (e: Error) => /contract/.test(e.message) && /id: contract says STRING, the SQL returns INTEGER/.test(e.message),
    );
  });

  it("full refresh swaps through __dbt_tmp/__dbt_backup and keeps the children's foreign keys", async () => {
    const cfg = { unique_key: 'id' };
    const out = await materialize(
      await input({
        model: 'parent',
        materialized: 'incremental',
        config: cfg,
        fullRefresh: true,
        sql: `select id, ts, deleted from v1.src where not deleted`,
        columns: parentCols,
        contractEnforced: true,
      }),
    );
    assert.ok(
      out.statements.some((x) => /alter table "tmat[^"]*"\."v1"\."parent" rename to "parent__dbt_backup"/.test(x)),
    );
    assert.ok(
      out.statements.some((x) => /drop table if exists "tmat[^"]*"\."v1"\."parent__dbt_backup" cascade/.test(x)),
    );
    const fks = await rows(
      `select conname, pg_get_constraintdef(oid) as def from pg_constraint where conrelid='v1.child'::regclass and contype='f'`,
    );
    assert.equal(fks.length, 1, 'the child keeps its foreign key to the rebuilt parent');
    assert.match((fks[0] as { def: string }).def, /REFERENCES v1\.parent\(id\) ON DELETE CASCADE/);
    await s.query(`delete from v1.parent where id = 'a'`);
    assert.deepEqual(await rows(`select id from v1.child`), [], 'deletes cascade again after the refresh');
    assert.equal(
      (await rows(`select 1 from pg_class where relname in ('parent__dbt_tmp', 'parent__dbt_backup')`)).length,
      0,
    );
  });

  it('on_schema_change: append_new_columns adds, fail refuses, sync_all_columns drops', async () => {
    await materialize(
      await input({
        model: 'osc',
        materialized: 'incremental',
        config: { unique_key: 'id' },
        sql: `select id, v from v1.src`,
      }),
    );
    await materialize(
      await input({
        model: 'osc',
        materialized: 'incremental',
        config: { unique_key: 'id', on_schema_change: 'append_new_columns' },
        sql: `select id, v, ts from v1.src`,
      }),
    );
    assert.deepEqual(
      (
        await rows(
          `select column_name from information_schema.columns where table_name='osc' order by ordinal_position`,
        )
      ).map((c) => (c as { column_name: string }).column_name),
      ['id', 'v', 'ts'],
    );
    await assert.rejects(
      materialize(
        await input({
          model: 'osc',
          materialized: 'incremental',
          config: { unique_key: 'id', on_schema_change: 'fail' },
          sql: `select id, v from v1.src`,
        }),
      ),
      /out of sync/,
    );
    await materialize(
      await input({
        model: 'osc',
        materialized: 'incremental',
        config: { unique_key: 'id', on_schema_change: 'sync_all_columns' },
        sql: `select id, ts from v1.src`,
      }),
    );
    assert.deepEqual(
      (
        await rows(
          `select column_name from information_schema.columns where table_name='osc' order by ordinal_position`,
        )
      ).map((c) => (c as { column_name: string }).column_name),
      ['id', 'ts'],
    );
  });

  it('append without unique_key, merge when asked', async () => {
    await materialize(await input({ model: 'app', materialized: 'incremental', sql: `select id, v from v1.src` }));
    await materialize(
      await input({ model: 'app', materialized: 'incremental', sql: `select id, v from v1.src where id = 'd'` }),
    );
    assert.equal((await rows(`select * from v1.app where id='d'`)).length, 2);
    await materialize(
      await input({
        model: 'mrg',
        materialized: 'incremental',
        config: { unique_key: 'id', incremental_strategy: 'merge' },
        sql: `select id, v from v1.src`,
      }),
    );
    await s.query(`update v1.src set v = 99 where id = 'd'`);
    const out = await materialize(
      await input({
        model: 'mrg',
        materialized: 'incremental',
        config: { unique_key: 'id', incremental_strategy: 'merge' },
        sql: `select id, v from v1.src where id = 'd'`,
      }),
    );
    assert.ok(out.statements.some((x) => /^merge into/.test(x)));
    assert.deepEqual(await rows(`select v from v1.mrg where id='d'`), [{ v: 99 }]);
  });

  it('view, table and materialized view (created, then rebuilt / refreshed)', async () => {
    await materialize(await input({ model: 'vw', materialized: 'view', sql: `select id from v1.src` }));
    await materialize(await input({ model: 'vw', materialized: 'view', sql: `select id, v from v1.src` }));
    assert.deepEqual(await rows(`select relkind from pg_class where relname='vw'`), [{ relkind: 'v' }]);
    await materialize(await input({ model: 'tb', materialized: 'table', sql: `select id from v1.src` }));
    assert.equal((await rows(`select * from v1.tb`)).length, 4);
    await materialize(
      await input({
        model: 'mv',
        materialized: 'materialized_view',
        config: { indexes: [{ columns: ['id'] }] },
        sql: `select id, v from v1.src`,
      }),
    );
    await s.query(`insert into v1.src values ('e', now(), false, 5)`);
    const out = await materialize(
      await input({ model: 'mv', materialized: 'materialized_view', sql: `select id, v from v1.src` }),
    );
    assert.ok(out.statements.some((x) => /^refresh materialized view/.test(x)));
    assert.equal((await rows(`select * from v1.mv`)).length, 5);
  });

  it('leftovers of an interrupted run are dropped whatever their kind', async () => {
    await s.script(`create view v1.left__dbt_tmp as select 1 as x; create table v1.left__dbt_backup (x int);`);
    await materialize(await input({ model: 'left', materialized: 'table', sql: `select 2 as x` }));
    assert.deepEqual(await rows(`select x from v1.left`), [{ x: 2 }]);
    assert.equal(
      (await rows(`select 1 from pg_class where relname in ('left__dbt_tmp', 'left__dbt_backup')`)).length,
      0,
    );
  });

  it('a failing statement names the model and carries the SQL fragment and line', async () => {
    await assert.rejects(
      materialize(await input({ model: 'broken', materialized: 'table', sql: `select\n  nope_column\nfrom v1.src` })),
      (e: Error & { details?: Record<string, unknown> }) => {
        assert.match(
          e.message,
          /Model broken \(models\/broken\.sql\) failed in PostgreSQL: column "nope_column" does not exist/,
        );
        assert.match(String(e.details?.sqlFragment), /nope_column/);
        assert.equal(typeof e.details?.line, 'number');
        return true;
      },
    );
  });
});
