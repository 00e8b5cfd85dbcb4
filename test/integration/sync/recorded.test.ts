import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { syncOnce } from '../../../app/engine/sync-wiring';
import type { SyncEvent, SyncOptions } from '../../../app/sync/types';
import { createTestDatabase } from '../../support/postgres';
import { memoryCheckpoints, newPool, rawRows } from './helpers';
import { startRecordedServer, type RecordedServer } from './recorded-server';

const FAST_RETRY = { maxAttempts: 3, downBaseMs: 20, slowBaseMs: 20, maxDelayMs: 50 };

describe('sync against recorded CouchDB 3 responses (opaque seqs, seq_interval nulls, pending)', () => {
  let server: RecordedServer;
  let pgDb: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  const options = (schema: string, extra: Partial<SyncOptions> = {}): SyncOptions => ({
    couch: { url: server.url, username: 'reader', password: 'recorded-secret' },
    databases: ['medic'],
    pool,
    schema,
    table: 'couchdb',
    batchSize: 1000,
    maxBatchBytes: 16 * 1024 * 1024,
    checkpoints: memoryCheckpoints(),
    logger: silentLogger,
    retryPolicy: FAST_RETRY,
    ...extra,
  });
  const lastSeq = (): string => server.index.requests[2]?.since as string;

  before(async () => {
    server = await startRecordedServer();
    pgDb = await createTestDatabase('sync_recorded');
    pool = newPool(pgDb.url);
  });
  after(async () => {
    await pool?.end();
    await pgDb?.drop();
    await server?.close();
  });

  const assertContents = async (schema: string): Promise<void> => {
    const rows = await rawRows(pool, schema, 'couchdb');
    const byId = new Map(rows.map((r) => [r._id, r]));
    assert.deepEqual([...byId.keys()].sort(), [
      '019f988b-b300-78ed-83e2-d5ce1dd1f1dc',
      'b1c56bfe-7f3a-4f45-972a-fec163e04365',
      'c563e1f2-d5f9-495a-9c17-452a792f02df',
      'd3531c8e-9fa0-4905-8960-b306766d847b',
      'delete-without-body',
      'org.couchdb.user:esther_mgr',
    ]);
    for (const r of rows) assert.equal(r.source, '127.0.0.1/medic');
    assert.equal(byId.get('b1c56bfe-7f3a-4f45-972a-fec163e04365')?._deleted, true);
    assert.equal(byId.get('019f988b-b300-78ed-83e2-d5ce1dd1f1dc')?.doc.name, 'Grace Wanjiku (duplicate)');
    assert.deepEqual(byId.get('delete-without-body')?.doc, {
      _id: 'delete-without-body',
      _rev: '2-00000000000000000000000000000002',
      _deleted: true,
    });
    assert.equal(byId.get('delete-without-body')?._deleted, true);
    assert.equal(byId.get('d3531c8e-9fa0-4905-8960-b306766d847b')?.doc.notes, 'Called twiceno answer');
    assert.equal(byId.get('d3531c8e-9fa0-4905-8960-b306766d847b')?.doc.path, 'C:\\u0000dir');
    const progress = await pool.query<{ seq: string; pending: number }>(
      `select seq, pending from "${schema}".couchdb_progress where source = '127.0.0.1/medic'`,
    );
    assert.equal(progress.rows[0]?.seq, lastSeq(), 'the opaque seq is stored byte for byte');
    assert.equal(progress.rows[0]?.pending, 0);
  };

  it('writes every row once, skips the document PostgreSQL rejects, and stores the opaque seq', async () => {
    server.requests.length = 0;
    const events: SyncEvent[] = [];
    const result = await syncOnce(options('rec_a', { onEvent: (e) => events.push(e) }));
    const db = result.databases[0];
    assert.equal(result.outcome, 'done', JSON.stringify(db?.error));
    assert.equal(db?.reachedEnd, true);
    assert.equal(db?.docs, 6);
    assert.equal(db?.deletes, 3);
    assert.equal(db?.seqBefore, null);
    assert.equal(db?.seqAfter, lastSeq());
    assert.deepEqual(
      db?.skipped.map((s) => s.id),
      ['bad-surrogate'],
    );
    assert.match(db?.skipped[0]?.reason ?? '', /json/i);
    await assertContents('rec_a');

    const changes = server.requests.filter((r) => r.url.includes('/_changes'));
    assert.equal(changes.length, 3, 'one request per page; the third, pending 0, ends the catch-up');
    for (const [i, r] of changes.entries()) {
      const q = new URL(r.url, 'http://x').searchParams;
      assert.equal(q.get('include_docs'), 'true');
      // the first request on a link not measured yet is kept short; it grows (to the batch size at most) as pages come back full
      if (i === 0) assert.equal(q.get('limit'), '200');
      assert.ok(Number(q.get('limit')) <= 1000);
      assert.equal(q.get('seq_interval'), q.get('limit'));
      // the encoding depends on how near the server is (here: local); field-link.test.ts covers compression
      assert.equal(r.headers.authorization, `Basic ${Buffer.from('reader:recorded-secret').toString('base64')}`);
    }
    const progress = events.filter((e) => e.type === 'progress');
    assert.ok(
      progress.some((e) => e.type === 'progress' && e.pending === 4 && !e.isPendingEstimate),
      'pending from the feed',
    );
    assert.equal(progress.at(-1)?.type === 'progress' && progress.at(-1)?.pending, 0);
  });

  it('cuts pages by bytes and checkpoints only non-null seqs inside a page', async () => {
    const batchSeqs: (string | null)[] = [];
    const result = await syncOnce(
      options('rec_b', { maxBatchBytes: 300, onEvent: (e) => e.type === 'batch' && batchSeqs.push(e.seq) }),
    );
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases[0]?.error));
    await assertContents('rec_b');
    // page 1's first row carries a seq (seq_interval), the others null: the cut batches checkpoint that one
    const page1First =
      '3-g1AAAAG3eJzLYWBg4MhgTmHgz8tPSTV0MDQy1zMAQsMcoARTIkOS_P___7MSGXAqSVIAkkn2IFUZzIkMuUAee5pRqnGiuXkKA2dpXkpqWmZeagpu_Q4g_fGEbEkAqaqH2sIItsXAyMjM2NgUUwdOU_JYgCRDA5ACGjQfn30QlQsgKvcjfGaQZmaUmmZClM8gZhyAmHGfsG0PICrBPmQC22ZqbGRqamyIqSsLAAArcXo';
    assert.equal(batchSeqs[0], page1First);
    assert.ok(batchSeqs.length > 3, `batches: ${batchSeqs.length}`);
    assert.ok(batchSeqs.includes(server.index.requests[1]?.since as string), 'page 1 ends at its last_seq');
  });

  it('a response cut mid-body is retried from the saved position', async () => {
    server.cutNext = 2;
    const result = await syncOnce(options('rec_c'));
    assert.equal(server.cutNext, 0);
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases[0]?.error));
    await assertContents('rec_c');
  });

  it('a server that stalls mid-response is "slow" (COUCH_TIMEOUT): retried, then reported as timeout', async () => {
    server.stallNext = 1;
    const events: SyncEvent[] = [];
    const once = await syncOnce(options('rec_s1', { requestTimeoutMs: 300, onEvent: (e) => events.push(e) }));
    assert.equal(once.outcome, 'done', JSON.stringify(once.databases[0]?.error));
    const backingOff = events.find((e) => e.type === 'state' && e.state.kind === 'backing-off');
    assert.equal(backingOff?.type === 'state' && backingOff.state.error?.code, 'COUCH_TIMEOUT');
    await assertContents('rec_s1');

    server.stallNext = 100;
    try {
      const stalled = await syncOnce(options('rec_s2', { requestTimeoutMs: 200 }));
      assert.equal(stalled.outcome, 'timeout');
      assert.equal(stalled.databases[0]?.error?.code, 'COUCH_TIMEOUT');
    } finally {
      server.stallNext = 0;
    }
  });

  it('credentials inside the URL travel in the Authorization header, never in a message', async () => {
    server.requests.length = 0;
    const url = server.url.replace('http://', 'http://reader:url-secret-1@');
    const result = await syncOnce({ ...options('rec_g'), couch: { url } });
    assert.equal(result.outcome, 'done');
    assert.equal(result.databases[0]?.source, '127.0.0.1/medic');
    for (const r of server.requests) {
      assert.equal(r.headers.authorization, `Basic ${Buffer.from('reader:url-secret-1').toString('base64')}`);
      assert.doesNotMatch(r.url, /url-secret/);
    }
    server.failWith = 500;
    try {
      const failed = await syncOnce({ ...options('rec_h'), couch: { url } });
      assert.doesNotMatch(JSON.stringify(failed), /url-secret-1/);
    } finally {
      server.failWith = null;
    }
  });

  it('HTTP 401 → COUCH_AUTH, outcome refused, no retry, no secret in the message', async () => {
    server.failWith = 401;
    server.requests.length = 0;
    try {
      const result = await syncOnce(options('rec_d'));
      assert.equal(result.outcome, 'refused');
      const db = result.databases[0];
      assert.equal(db?.error?.code, 'COUCH_AUTH');
      assert.match(db?.error?.message ?? '', /medic/);
      assert.match(db?.error?.message ?? '', /COUCHDB_PASSWORD/);
      assert.doesNotMatch(JSON.stringify(result), /recorded-secret/);
      assert.equal(server.requests.filter((r) => r.url.includes('_changes')).length, 1);
    } finally {
      server.failWith = null;
    }
  });

  it('HTTP 500 → COUCH_SERVER, retried with backoff, then outcome failed', async () => {
    server.failWith = 500;
    server.requests.length = 0;
    try {
      const result = await syncOnce(options('rec_e'));
      assert.equal(result.outcome, 'failed');
      assert.equal(result.databases[0]?.error?.code, 'COUCH_SERVER');
      assert.equal(result.databases[0]?.error?.retryable, true);
      assert.equal(server.requests.filter((r) => r.url.includes('_changes')).length, 4, 'first try + 3 retries');
    } finally {
      server.failWith = null;
    }
  });

  it('an unreachable server → COUCH_UNREACHABLE, outcome offline', async () => {
    const result = await syncOnce({ ...options('rec_f'), couch: { url: 'http://127.0.0.1:9' } });
    assert.equal(result.outcome, 'offline');
    assert.equal(result.databases[0]?.error?.code, 'COUCH_UNREACHABLE');
  });
});
