import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCouchClient } from '../../../app/couch/couch-client';
import { EngineError } from '../../../app/core/engine-error';
import { adminHeaders, startPouchServer, TEST_ADMIN, type PouchServer } from '../../support/pouchdb-server';

describe('the CouchDB client (nano on our agent) against pouchdb-server', () => {
  let couch: PouchServer;
  const admin = () => ({ url: couch.url, username: TEST_ADMIN.username, password: TEST_ADMIN.password });

  before(async () => {
    couch = await startPouchServer();
    await fetch(`${couch.url}/people`, { method: 'PUT', headers: adminHeaders() });
    const docs = Array.from({ length: 25 }, (_, i) => ({ _id: `p-${String(i).padStart(2, '0')}`, type: 'person', i }));
    const res = await fetch(`${couch.url}/people/_bulk_docs`, {
      method: 'POST',
      headers: adminHeaders(),
      body: JSON.stringify({ docs }),
    });
    const saved = (await res.json()) as { id: string; rev: string }[];
    const gone = saved.find((s) => s.id === 'p-07');
    await fetch(`${couch.url}/people/p-07?rev=${gone?.rev}`, { method: 'DELETE', headers: adminHeaders() });
  });
  after(async () => {
    await couch?.stop();
  });

  it('pages _all_docs by id with winning revs, deleted documents left out', async () => {
    const client = createCouchClient(admin());
    try {
      const seen: { id: string; rev: string }[] = [];
      let startAfter: string | null = null;
      let requests = 0;
      for (;;) {
        const page = await client.allDocs('people', { startAfter, limit: 10 });
        requests++;
        seen.push(...page.rows);
        if (page.next === null) break;
        startAfter = page.next;
      }
      assert.equal(seen.length, 24);
      assert.ok(!seen.some((r) => r.id === 'p-07'));
      assert.deepEqual(
        seen.map((r) => r.id),
        [...seen.map((r) => r.id)].sort(),
      );
      assert.equal(new Set(seen.map((r) => r.id)).size, 24, 'no id twice across pages');
      for (const r of seen) assert.match(r.rev, /^1-/);
      assert.equal(requests, 3);
    } finally {
      client.close();
    }
  });

  it('server info, session, database list and database info', async () => {
    const client = createCouchClient(admin());
    try {
      const info = await client.serverInfo();
      assert.equal(info.isCouch, true);
      assert.match(info.vendor, /PouchDB/);
      assert.equal((await client.session()).name, TEST_ADMIN.username);
      assert.ok((await client.allDbs()).includes('people'));
      const db = await client.databaseInfo('people');
      assert.equal(db.docCount, 24);
    } finally {
      client.close();
    }
  });

  it('a wrong password and a missing database are engine errors naming the fix, never the password', async () => {
    const client = createCouchClient({ ...admin(), password: 'wrong-password-here' });
    try {
      await assert.rejects(
        client.databaseInfo('people'),
        (e: unknown) =>
          e instanceof EngineError && e.code === 'COUCH_AUTH' && !e.message.includes('wrong-password-here'),
      );
    } finally {
      client.close();
    }
    const good = createCouchClient(admin());
    try {
      await assert.rejects(
        good.allDocs('nope', { limit: 5 }),
        (e: unknown) => e instanceof EngineError && e.code === 'COUCH_DB_MISSING' && /"nope"/.test(e.message),
      );
    } finally {
      good.close();
    }
  });
});
