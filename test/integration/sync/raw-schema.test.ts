import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { ensureRawSchema, readProgress } from '../../../app/postgres/raw-schema';
import { createTestDatabase } from '../../support/postgres';
import { newPool } from './helpers';

describe('raw schema', () => {
  let pgDb: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  before(async () => {
    pgDb = await createTestDatabase('sync_schema');
    pool = newPool(pgDb.url);
  });
  after(async () => {
    await pool?.end();
    await pgDb?.drop();
  });

  const indexes = async (schema: string): Promise<string[]> =>
    (
      await pool.query<{ i: string }>(
        "select tablename || ':' || indexname as i from pg_indexes where schemaname = $1 order by 1",
        [schema],
      )
    ).rows.map((r) => r.i);

  it('is idempotent and safe to run concurrently, for several tables in one schema', async () => {
    await Promise.all([
      ensureRawSchema(pool, 'v1', 'couchdb'),
      ensureRawSchema(pool, 'v1', 'couchdb'),
      ensureRawSchema(pool, 'v1', 'other'),
    ]);
    await ensureRawSchema(pool, 'v1', 'couchdb');
    assert.deepEqual(await indexes('v1'), [
      'couchdb:_deleted',
      'couchdb:couchdb_pkey',
      'couchdb:saved_timestamp',
      'couchdb:source',
      'couchdb_progress:couchdb_progress_pkey',
      'couchdb_shadowed:couchdb_shadowed_id',
      'couchdb_shadowed:couchdb_shadowed_pkey',
      'other:other__deleted',
      'other:other_pkey',
      'other:other_saved_timestamp',
      'other:other_source',
      'other_shadowed:other_shadowed_id',
      'other_shadowed:other_shadowed_pkey',
    ]);
    const columns = await pool.query<{ c: string }>(
      "select column_name || ' ' || data_type as c from information_schema.columns where table_schema = 'v1' and table_name = 'couchdb' order by ordinal_position",
    );
    assert.deepEqual(
      columns.rows.map((r) => r.c),
      [
        'saved_timestamp timestamp without time zone',
        '_id character varying',
        '_deleted boolean',
        'source character varying',
        'doc jsonb',
      ],
    );
  });

  it('adopts a database cht-sync created: same tables and indexes, data and position kept', async () => {
    // cht-sync 2.x's DDL (couch2pg/src/setup.js), restated
    await pool.query('create schema legacy');
    await pool.query(
      'create table legacy.couchdb (saved_timestamp timestamp, _id varchar primary key, _deleted boolean, source varchar, doc jsonb)',
    );
    await pool.query('create index _deleted on legacy.couchdb (_deleted)');
    await pool.query('create index saved_timestamp on legacy.couchdb (saved_timestamp)');
    await pool.query('create index source on legacy.couchdb (source)');
    await pool.query(
      'create table legacy.couchdb_progress (seq varchar, pending integer, updated_at timestamptz, source varchar primary key)',
    );
    await pool.query(`insert into legacy.couchdb values (now(), 'a', false, 'h/medic', '{"_id":"a"}')`);
    await pool.query(`insert into legacy.couchdb_progress values ('12-abc', 3, now(), 'h/medic')`);
    await ensureRawSchema(pool, 'legacy', 'couchdb');
    assert.deepEqual(
      (await indexes('legacy')).filter((i) => i.startsWith('couchdb:')),
      ['couchdb:_deleted', 'couchdb:couchdb_pkey', 'couchdb:saved_timestamp', 'couchdb:source'],
    );
    assert.deepEqual(await readProgress(pool, 'legacy', 'h/medic', 'couchdb'), { seq: '12-abc', pending: 3 });
    // Issue 11 #8: the position belongs to the table it was written for; another table starts from the beginning.
    await ensureRawSchema(pool, 'legacy', 'second');
    assert.equal(await readProgress(pool, 'legacy', 'h/medic', 'second'), null);
    // cht-sync v2's columns read as cht-watchdog reads them, one row per source for the table it knows.
    const watchdog = await pool.query<{ source: string; seq: string; pending: number }>(
      'select source, seq, pending, updated_at from legacy.couchdb_progress',
    );
    assert.deepEqual(
      watchdog.rows.map((r) => [r.source, r.seq, r.pending]),
      [['h/medic', '12-abc', 3]],
    );
    const all = await pool.query('select _id, source from legacy.couchdb_all');
    assert.deepEqual(all.rows, [{ _id: 'a', source: 'h/medic' }]);
  });
});
