import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { syncOnce } from '../../../app/engine/sync-wiring';
import type { SyncOptions } from '../../../app/sync/types';
import { createTestDatabase } from '../../support/postgres';
import { startPouchServer, type PouchServer } from '../../support/pouchdb-server';
import {
  FIXTURE_DOCS,
  assertSameAsCouch,
  couchRequest,
  loadFixtures,
  memoryCheckpoints,
  newPool,
  rawRows,
} from './helpers';

const DBS = ['medic', 'medic-sentinel', 'medic-users-meta', '_users', 'medic-logs'];
const HOST = '127.0.0.1';

describe('sync of the 48 CHT fixture documents (pouchdb-server, real PostgreSQL)', () => {
  let couch: PouchServer;
  let pgDb: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  const checkpoints = memoryCheckpoints();
  const options = (): SyncOptions => ({
    couch: { url: couch.url, username: couch.username, password: couch.password },
    databases: DBS,
    pool,
    schema: 'v1',
    table: 'couchdb',
    batchSize: 7, // several batches per database
    maxBatchBytes: 16 * 1024 * 1024,
    checkpoints,
    logger: silentLogger,
  });

  before(async () => {
    couch = await startPouchServer();
    await loadFixtures(couch.url);
    pgDb = await createTestDatabase('sync_fixtures');
    pool = newPool(pgDb.url);
  });
  after(async () => {
    await pool?.end();
    await pgDb?.drop();
    await couch?.stop();
  });

  it('first run: every document exactly once, sanitised, tombstones kept', async () => {
    const result = await syncOnce(options());
    assert.equal(
      result.outcome,
      'done',
      JSON.stringify(result.databases.map((d) => [d.database, d.outcome, d.error?.message])),
    );
    for (const d of result.databases) {
      assert.equal(d.reachedEnd, true);
      assert.equal(d.source, `${HOST}/${d.database}`);
      assert.deepEqual(d.skipped, []);
      assert.equal(d.seqBefore, null);
      assert.ok(d.seqAfter !== null);
      assert.equal(checkpoints.get(d.source)?.seq, d.seqAfter, 'the store copy follows PostgreSQL');
    }
    await assertSameAsCouch(pool, couch.url, DBS, HOST);
    // 48 fixtures + pouchdb-server's own _design/_auth in _users
    const rows = await rawRows(pool);
    assert.equal(rows.length, 49);
    const main = await rawRows(pool, 'v1', 'couchdb');
    assert.equal(new Set(main.map((r) => r._id)).size, main.length, 'couchdb keeps one row per _id');

    const byKey = new Map(rows.map((r) => [`${r.source} ${r._id}`, r]));
    const nul = byKey.get(`${HOST}/medic d3531c8e-9fa0-4905-8960-b306766d847b`);
    assert.equal(nul?.doc.notes, 'Called twiceno answer');
    const sms = byKey.get(`${HOST}/medic bbdc562f-b67e-4516-8730-b76e8501955f`);
    assert.equal((sms?.doc.sms_message as { message: string }).message, '1!P!12\u200b#');

    const user = byKey.get(`${HOST}/_users org.couchdb.user:joyce_chw`);
    assert.ok(user, 'the _users row is kept');
    for (const field of ['password_scheme', 'pbkdf2_prf', 'iterations', 'derived_key', 'salt'])
      assert.equal(field in (user?.doc ?? {}), false, field);
    assert.equal(user?.doc.name, 'joyce_chw');
    const settings = byKey.get(`${HOST}/medic org.couchdb.user:joyce_chw`);
    assert.equal(settings?.doc.type, 'user-settings');
    const holder = main.find((r) => r._id === 'org.couchdb.user:joyce_chw');
    assert.equal(holder?.source, `${HOST}/medic`, 'medic outranks _users for shared ids');

    const stub = byKey.get(`${HOST}/medic b1c56bfe-7f3a-4f45-972a-fec163e04365`);
    assert.equal(stub?._deleted, true);
    assert.deepEqual(stub?.doc, FIXTURE_DOCS[32]);
    const fullTombstone = byKey.get(`${HOST}/medic 019f988b-b300-78ed-83e2-d5ce1dd1f1dc`);
    assert.equal(fullTombstone?._deleted, true);
    assert.equal(fullTombstone?.doc.type, 'person', 'a full-body tombstone keeps its body');

    // one saved_timestamp per batch: a 7-row limit gives several distinct ones in medic
    const medicStamps = new Set(rows.filter((r) => r.source === `${HOST}/medic`).map((r) => r.saved_timestamp));
    assert.ok(medicStamps.size >= 5 && medicStamps.size <= 7, `batches of medic: ${medicStamps.size}`);

    const progress = await pool.query<{ source: string; seq: string }>(
      'select source, seq from v1.couchdb_progress order by source',
    );
    assert.equal(progress.rows.length, DBS.length);
  });

  it('second run writes nothing', async () => {
    const snapshot = async (): Promise<string> => {
      const r =
        await pool.query(`select (select count(*) from v1.couchdb_all) n, (select max(saved_timestamp)::text from v1.couchdb_all) ts,
        (select string_agg(source || seq || updated_at::text, ',' order by source) from v1.couchdb_progress) p`);
      return JSON.stringify(r.rows[0]);
    };
    const before = await snapshot();
    const result = await syncOnce(options());
    assert.equal(result.outcome, 'done');
    for (const d of result.databases) {
      assert.equal(d.docs, 0);
      assert.equal(d.seqAfter, d.seqBefore);
    }
    assert.equal(await snapshot(), before);
  });

  it('an added, an edited and a deleted document are picked up, and nothing else', async () => {
    const before = await rawRows(pool);
    const added = {
      _id: 'added-doc',
      type: 'person',
      name: 'New',
      note: 'path C:\\u0000dir keeps its backslash',
      nul: 'a\u0000b',
    };
    assert.equal((await couchRequest(couch.url, 'PUT', '/medic/added-doc', added)).status, 201);
    const edited = (await couchRequest(couch.url, 'GET', '/medic/c563e1f2-d5f9-495a-9c17-452a792f02df')).json as Record<
      string,
      unknown
    >;
    edited.name = 'Grace W. (edited)';
    assert.equal(
      (await couchRequest(couch.url, 'PUT', '/medic/c563e1f2-d5f9-495a-9c17-452a792f02df', edited)).status,
      201,
    );
    const victim = (
      await couchRequest(
        couch.url,
        'GET',
        '/medic-users-meta/feedback-2026-07-14T10:31:02.118Z-019f602e-1ae6-72aa-83c6-50e9618a1fb6',
      )
    ).json as { _rev: string };
    const del = await couchRequest(
      couch.url,
      'DELETE',
      `/medic-users-meta/feedback-2026-07-14T10:31:02.118Z-019f602e-1ae6-72aa-83c6-50e9618a1fb6?rev=${victim._rev}`,
    );
    assert.equal(del.status, 200);

    const result = await syncOnce(options());
    assert.equal(result.outcome, 'done');
    const byDb = new Map(result.databases.map((d) => [d.database, d]));
    assert.equal(byDb.get('medic')?.docs, 2);
    assert.equal(byDb.get('medic-users-meta')?.docs, 1);
    assert.equal(byDb.get('medic-users-meta')?.deletes, 1);
    for (const db of ['medic-sentinel', '_users', 'medic-logs']) assert.equal(byDb.get(db)?.docs, 0);

    await assertSameAsCouch(pool, couch.url, DBS, HOST);
    const after = await rawRows(pool);
    const old = new Map(before.map((r) => [`${r.source} ${r._id}`, r]));
    const changed = after
      .filter((r) => JSON.stringify(old.get(`${r.source} ${r._id}`)) !== JSON.stringify(r))
      .map((r) => `${r.source} ${r._id}`);
    assert.deepEqual(changed.sort(), [
      `${HOST}/medic added-doc`,
      `${HOST}/medic c563e1f2-d5f9-495a-9c17-452a792f02df`,
      `${HOST}/medic-users-meta feedback-2026-07-14T10:31:02.118Z-019f602e-1ae6-72aa-83c6-50e9618a1fb6`,
    ]);
    const addedRow = after.find((r) => r._id === 'added-doc');
    assert.equal(addedRow?.doc.note, 'path C:\\u0000dir keeps its backslash');
    assert.equal(addedRow?.doc.nul, 'ab');
    const deleted = after.find((r) => r._id.startsWith('feedback-2026-07-14'));
    assert.equal(deleted?._deleted, true);
  });
});
