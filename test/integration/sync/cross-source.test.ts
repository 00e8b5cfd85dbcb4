import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { syncOnce } from '../../../app/engine/sync-wiring';
import type { SyncOptions } from '../../../app/sync/types';
import { createTestDatabase } from '../../support/postgres';
import { startPouchServer, type PouchServer } from '../../support/pouchdb-server';
import { couchRequest, createDb, memoryCheckpoints, newPool, rawRows, type RawRow } from './helpers';

const USER_ID = 'org.couchdb.user:x';
const userDoc = {
  _id: USER_ID,
  type: 'user',
  name: 'x',
  roles: ['chw'],
  password_scheme: 'pbkdf2',
  derived_key: 'k',
  salt: 's',
  iterations: 10,
  pbkdf2_prf: 'sha256',
};
const settingsDoc = { _id: USER_ID, type: 'user-settings', name: 'x', facility_id: 'f1', contact_id: 'c1' };

describe('several sources sharing _ids: nothing is silently overwritten', () => {
  const servers: PouchServer[] = [];
  let pgDb: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;

  before(async () => {
    servers.push(await startPouchServer(), await startPouchServer());
    pgDb = await createTestDatabase('sync_cross');
    pool = newPool(pgDb.url);
  });
  after(async () => {
    await pool?.end();
    await pgDb?.drop();
    for (const s of servers) await s.stop();
  });

  const options = (server: PouchServer, schema: string, databases: string[], host = '127.0.0.1'): SyncOptions => ({
    couch: { url: server.url.replace('127.0.0.1', host), username: server.username, password: server.password },
    databases,
    pool,
    schema,
    table: 'couchdb',
    batchSize: 100,
    maxBatchBytes: 1 << 24,
    checkpoints: memoryCheckpoints(),
    logger: silentLogger,
  });
  const put = async (server: PouchServer, db: string, doc: Record<string, unknown>): Promise<void> => {
    await createDb(server.url, db);
    const r = await couchRequest(
      server.url,
      'PUT',
      `/${encodeURIComponent(db)}/${encodeURIComponent(String(doc._id))}`,
      doc,
    );
    assert.equal(r.status, 201, JSON.stringify(r.json));
  };
  const shape = (rows: RawRow[]): string[] =>
    rows
      .filter((r) => r._id === USER_ID)
      .map((r) => `${r.source} ${String(r.doc.type)}`)
      .sort();

  it('org.couchdb.user:x in _users and medic: both kept, medic holds couchdb whatever the sync order', async () => {
    const [a, b] = servers as [PouchServer, PouchServer];
    // Server a: the _users doc arrives (and is synced) first, then medic's.
    await createDb(a.url, 'medic');
    await put(a, '_users', userDoc);
    assert.equal((await syncOnce(options(a, 'order_a', ['_users', 'medic']))).outcome, 'done');
    assert.deepEqual(shape(await rawRows(pool, 'order_a', 'couchdb')), ['127.0.0.1/_users user']);
    await put(a, 'medic', settingsDoc);
    assert.equal((await syncOnce(options(a, 'order_a', ['_users', 'medic']))).outcome, 'done');
    // Server b: medic's first, then _users'.
    await createDb(b.url, '_users');
    await put(b, 'medic', settingsDoc);
    assert.equal((await syncOnce(options(b, 'order_b', ['medic', '_users']))).outcome, 'done');
    await put(b, '_users', userDoc);
    assert.equal((await syncOnce(options(b, 'order_b', ['medic', '_users']))).outcome, 'done');

    for (const schema of ['order_a', 'order_b']) {
      assert.deepEqual(shape(await rawRows(pool, schema, 'couchdb')), ['127.0.0.1/medic user-settings'], schema);
      assert.deepEqual(shape(await rawRows(pool, schema, 'couchdb_shadowed')), ['127.0.0.1/_users user'], schema);
      const all = (await rawRows(pool, schema, 'couchdb_all')).filter((r) => r._id === USER_ID);
      assert.equal(all.length, 2, 'exactly one row per (source, _id)');
      const users = all.find((r) => r.source.endsWith('/_users'));
      assert.equal('derived_key' in (users?.doc ?? {}), false, 'shadowed rows are sanitised too');
    }

    // An edit in the shadowed source updates its shadow row, never the main one.
    const current = (await couchRequest(a.url, 'GET', `/_users/${encodeURIComponent(USER_ID)}`)).json as Record<
      string,
      unknown
    >;
    await put(a, '_users', { ...current, roles: ['chw', 'supervisor'] });
    assert.equal((await syncOnce(options(a, 'order_a', ['_users', 'medic']))).outcome, 'done');
    const shadow = await rawRows(pool, 'order_a', 'couchdb_shadowed');
    assert.deepEqual(shadow.find((r) => r._id === USER_ID)?.doc.roles, ['chw', 'supervisor']);
    assert.deepEqual(shape(await rawRows(pool, 'order_a', 'couchdb')), ['127.0.0.1/medic user-settings']);
  });

  it('two instances sharing ids (settings): every (source, _id) kept, the first seen holds couchdb', async () => {
    const [a] = servers as [PouchServer];
    await put(a, 'medic', { _id: 'settings', settings: { locale: 'en' } });
    // the same server under two host names = two CHT instances for the `source` column
    assert.equal((await syncOnce(options(a, 'two', ['medic'], '127.0.0.1'))).outcome, 'done');
    assert.equal((await syncOnce(options(a, 'two', ['medic'], 'localhost'))).outcome, 'done');
    const all = await rawRows(pool, 'two', 'couchdb_all');
    const settings = all
      .filter((r) => r._id === 'settings')
      .map((r) => r.source)
      .sort();
    assert.deepEqual(settings, ['127.0.0.1/medic', 'localhost/medic']);
    const main = await rawRows(pool, 'two', 'couchdb');
    assert.equal(main.find((r) => r._id === 'settings')?.source, '127.0.0.1/medic');
    assert.equal(new Set(main.map((r) => r._id)).size, main.length);
    // every medic doc of both "instances" is there once
    const medicIds = all
      .filter((r) => r.source === '127.0.0.1/medic')
      .map((r) => r._id)
      .sort();
    assert.deepEqual(
      all
        .filter((r) => r.source === 'localhost/medic')
        .map((r) => r._id)
        .sort(),
      medicIds,
    );
  });
});
