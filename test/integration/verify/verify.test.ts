import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { generateChtDocs, type GeneratedDoc } from '../../../app/generator/generate-cht-docs';
import { seedCouch } from '../../../app/generator/seed-couch';
import { syncOnce } from '../../../app/engine/sync-wiring';
import { verifyRaw, type VerifyOptions } from '../../../app/verify/verify-raw';
import { createTestDatabase } from '../../support/postgres';
import { startPouchServer, TEST_ADMIN, type PouchServer } from '../../support/pouchdb-server';
import { couchRequest, memoryCheckpoints, newPool } from '../sync/helpers';

const DATABASES = ['medic', 'medic-users-meta', '_users'];

describe('verify: purged, extra, missing and stale rows found from ids and revs, and fixed', () => {
  let server: PouchServer;
  let pgDb: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let docs: GeneratedDoc[];

  before(async () => {
    docs = [...generateChtDocs({ seed: 11, docs: 1500 })].filter((d) => DATABASES.includes(d.database));
    server = await startPouchServer();
    await seedCouch(server.url, TEST_ADMIN, docs);
    pgDb = await createTestDatabase('verify');
    pool = newPool(pgDb.url);
    const sync = await syncOnce({
      couch: { url: server.url, ...TEST_ADMIN },
      databases: DATABASES,
      pool,
      schema: 'v1',
      table: 'couchdb',
      batchSize: 500,
      maxBatchBytes: 1 << 24,
      checkpoints: memoryCheckpoints(),
      logger: silentLogger,
    });
    assert.equal(sync.outcome, 'done');
  });
  after(async () => {
    await pool?.end();
    await pgDb?.drop();
    await server?.stop();
  });

  const verify = (fix: boolean, pageSize = 200): ReturnType<typeof verifyRaw> => {
    const o: VerifyOptions = {
      couch: { url: server.url, ...TEST_ADMIN },
      databases: DATABASES,
      pool,
      schema: 'v1',
      table: 'couchdb',
      fix,
      logger: silentLogger,
      pageSize,
    };
    return verifyRaw(o);
  };
  const medic = (r: Awaited<ReturnType<typeof verifyRaw>>) => r.databases.find((d) => d.database === 'medic')!;
  const row = async (id: string) =>
    (
      await pool.query<{ _deleted: boolean; rev: string; ts: string }>(
        `select _deleted, doc->>'_rev' as rev, saved_timestamp::text as ts from v1.couchdb where _id = $1 and source like '%/medic'`,
        [id],
      )
    ).rows[0];

  it('a faithful copy checks clean, every database, in pages smaller than the database', async () => {
    const r = await verify(false);
    assert.equal(r.outcome, 'done');
    for (const d of r.databases) {
      assert.deepEqual(
        [d.missing, d.stale, d.purged, d.outOfScope],
        [0, 0, 0, 0],
        `${d.database}: ${JSON.stringify(d.samples)}`,
      );
      assert.equal(d.serverDocs, d.rows, `${d.database}: the server's live docs and the table's live rows`);
    }
    assert.ok(medic(r).serverDocs > 400);
  });

  it('an injected purge, an extra row, a lost row and a stale row are found, then fixed, then check clean', async () => {
    const live = docs.filter(
      (g) =>
        g.database === 'medic' &&
        !g.doc._deleted &&
        !String(g.doc._id).startsWith('_design/') &&
        g.doc.type === 'person',
    );
    const [purged, lost, stale] = live.slice(-3).map((g) => String(g.doc._id)) as [string, string, string];
    // A purge leaves no trace in _changes: pouchdb-server has no _purge, so the database is
    // rebuilt with the same documents and revisions, less one.
    assert.equal((await couchRequest(server.url, 'DELETE', '/medic')).status, 200);
    const lastOfEach = new Map(docs.filter((g) => g.database === 'medic').map((g) => [String(g.doc._id), g]));
    await seedCouch(
      server.url,
      TEST_ADMIN,
      [...lastOfEach.values()].filter((g) => g.doc._id !== purged),
    );
    await pool.query(
      `insert into v1.couchdb (saved_timestamp, _id, _deleted, source, doc) select saved_timestamp, 'injected-extra', false, source, '{"_id":"injected-extra","_rev":"1-x"}' from v1.couchdb where _id = $1`,
      [lost],
    );
    await pool.query(`delete from v1.couchdb where _id = $1 and source like '%/medic'`, [lost]);
    await pool.query(
      `update v1.couchdb set doc = jsonb_set(doc, '{_rev}', '"1-00000000000000000000000000000000"') where _id = $1 and source like '%/medic'`,
      [stale],
    );
    const before = await row(purged);

    const found = medic(await verify(false));
    assert.deepEqual(
      { missing: found.missing, stale: found.stale, purged: found.purged },
      { missing: 1, stale: 1, purged: 2 },
    );
    assert.deepEqual(found.samples.missing, [lost]);
    assert.deepEqual(found.samples.stale, [stale]);
    assert.deepEqual(found.samples.purged.sort(), [purged, 'injected-extra'].sort());
    assert.equal(await row(lost), undefined, 'checking changes nothing');

    const fixed = medic(await verify(true));
    assert.deepEqual({ fetched: fixed.fetched, marked: fixed.marked }, { fetched: 2, marked: 2 });
    const onServer = (await couchRequest(server.url, 'GET', `/medic/${lost}`)).json as { _rev: string };
    assert.equal((await row(lost))?.rev, onServer._rev, "the lost row is back at the server's revision");
    assert.notEqual((await row(stale))?.rev, '1-00000000000000000000000000000000');
    const purgedRow = await row(purged);
    assert.equal(purgedRow?._deleted, true, "a purged document's row is marked deleted, so models drop it");
    assert.ok(purgedRow!.ts > before!.ts, 'with a new saved_timestamp, so incremental models see the deletion');

    const clean = await verify(false);
    for (const d of clean.databases) assert.deepEqual([d.missing, d.stale, d.purged], [0, 0, 0], d.database);
  });
});
