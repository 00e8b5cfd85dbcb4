/**
 * The sync through a field link: a real pouchdb-server behind the shaping proxy (gzip level 6
 * as CHT's nginx, bandwidth, latency, faults), real PostgreSQL. Kept short: a few hundred docs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { generateChtDocs, seedCouch } from '../../../app/generator';
import { syncFollow, syncOnce } from '../../../app/engine/sync-wiring';
import type { SyncEvent, SyncOptions } from '../../../app/sync/types';
import { readWithGzip } from '../../support/gzip-reader';
import { createTestDatabase } from '../../support/postgres';
import { startPouchServer, type PouchServer } from '../../support/pouchdb-server';
import { startShapingProxy, type ProxiedRequest, type ShapingProxy } from '../../support/shaping-proxy';
import { assertSameAsCouch, couchRequest, memoryCheckpoints, newPool } from './helpers';

const DBS = ['medic', 'medic-sentinel', 'medic-users-meta', '_users'];
const HOST = '127.0.0.1';
const MBIT = 1_000_000 / 8;

describe('sync through a field link (shaping proxy in front of pouchdb-server, real PostgreSQL)', () => {
  let couch: PouchServer;
  let totalRows = 0;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    couch = await startPouchServer();
    await seedCouch(
      couch.url,
      { username: couch.username, password: couch.password },
      generateChtDocs({ seed: 8, docs: 600 }),
    );
    for (const db of DBS) {
      const feed = await couchRequest(couch.url, 'GET', `/${encodeURIComponent(db)}/_changes`);
      totalRows += (feed.json as { results: unknown[] }).results.length;
    }
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await couch?.stop();
  });

  const setup = async (
    shape: Parameters<typeof startShapingProxy>[1] = {},
  ): Promise<{ pool: pg.Pool; proxy: ShapingProxy }> => {
    const db = await createTestDatabase('sync_field');
    const pool = newPool(db.url);
    const proxy = await startShapingProxy(couch.url, shape);
    cleanups.push(async () => {
      await proxy.close();
      await pool.end();
      await db.drop();
    });
    return { pool, proxy };
  };
  const options = (pool: pg.Pool, proxy: ShapingProxy, extra: Partial<SyncOptions> = {}): SyncOptions => ({
    couch: { url: proxy.url, username: couch.username, password: couch.password },
    databases: DBS,
    pool,
    schema: 'v1',
    table: 'couchdb',
    batchSize: 1000,
    maxBatchBytes: 16 * 1024 * 1024,
    checkpoints: memoryCheckpoints(),
    logger: silentLogger,
    ...extra,
  });
  const changesRequests = (proxy: ShapingProxy) => proxy.requests.filter((r) => r.url.includes('/_changes'));

  it('first sync through 1 Mbit/s + 200 ms with gzip and one cut mid-body: exactly once, about the bytes a gzip reader needs', async () => {
    const { pool, proxy } = await setup({ bytesPerSecond: MBIT, latencyMs: 200 });
    const reader = await readWithGzip({
      url: proxy.url,
      username: couch.username,
      password: couch.password,
      databases: DBS,
      limit: 1000,
    });
    assert.equal(reader.docs, totalRows);
    const readerWire = proxy.wireBytes;
    proxy.reset();
    proxy.fault({ kind: 'cut', afterBytes: 12_000, match: /\/medic\/_changes/ });
    const events: SyncEvent[] = [];
    const result = await syncOnce(options(pool, proxy, { onEvent: (e) => events.push(e) }));
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases.map((d) => d.error)));
    await assertSameAsCouch(pool, couch.url, DBS, HOST);
    const written = result.databases.reduce((n, d) => n + d.docs, 0); // docs counts deletes too
    assert.equal(written, totalRows, 'every row written once: the cut page was not committed, so nothing was redone');
    const medic = changesRequests(proxy).filter((r) => r.url.startsWith('/medic/'));
    assert.ok(
      medic.some((r) => r.wireBytes === 12_000),
      'a medic response was cut after 12,000 bytes',
    );
    for (const r of changesRequests(proxy)) assert.equal(r.contentEncoding, 'gzip', `${r.url} travelled compressed`);
    // About the bytes a gzip reader needs: the cut costs its 12 KB and the re-read of that page.
    assert.ok(
      proxy.wireBytes <= 1.2 * readerWire + 12_000,
      `sync ${proxy.wireBytes} bytes on the wire vs the gzip reader's ${readerWire}`,
    );
    const inBatch = events.filter((e) => e.type === 'progress' && (e.receivingBytes ?? 0) > 0);
    assert.ok(inBatch.length > 0, 'progress moved within a batch (bytes received)');
    const last = events.filter((e) => e.type === 'progress' && e.database === 'medic').at(-1);
    assert.ok(
      last?.type === 'progress' && (last.linkBytesPerSecond ?? 0) > 0 && (last.linkBytesPerSecond ?? 0) < 2 * MBIT,
      `link rate measured near 1 Mbit/s: ${last?.type === 'progress' ? last.linkBytesPerSecond : ''}`,
    );
  });

  it('a response that stops sending is abandoned and retried from the last committed batch', async () => {
    const { pool, proxy } = await setup();
    proxy.fault({ kind: 'stall', afterBytes: 4_000, match: /\/medic\/_changes/ });
    const started = Date.now();
    const result = await syncOnce(options(pool, proxy, { requestTimeoutMs: 1500 }));
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases.map((d) => d.error)));
    assert.ok(Date.now() - started >= 1400, 'the stalled response was waited for the idle timeout');
    await assertSameAsCouch(pool, couch.url, DBS, HOST);
    const medic = changesRequests(proxy).filter((r) => r.url.startsWith('/medic/'));
    assert.equal(medic[0]?.wireBytes, 4_000, 'the first medic response stopped after 4,000 bytes');
    assert.ok(medic.length >= 2, 'and was asked again');
  });

  it('503 with Retry-After: the server is asked again no sooner than it said', async () => {
    const { pool, proxy } = await setup();
    proxy.fault({ kind: 'status', status: 503, headers: { 'retry-after': '2' }, match: /\/medic\/_changes/ });
    const result = await syncOnce(options(pool, proxy, { databases: ['medic'] }));
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases.map((d) => d.error)));
    const medic = changesRequests(proxy);
    assert.equal(medic[0]?.status, 503);
    const times = proxy.requests.map((r) => r);
    assert.ok(times.length >= 2);
    assert.ok(
      (result.databases[0]?.seconds ?? 0) >= 1.9,
      `waited ${result.databases[0]?.seconds} s (Retry-After: 2; the backoff alone would be 0.25 s)`,
    );
    await assertSameAsCouch(pool, couch.url, ['medic'], HOST);
  });

  it('a server that returns the same page for every since stops with a clear error naming the database', async () => {
    const { pool, proxy } = await setup({ ignoreSince: true });
    const result = await syncOnce(options(pool, proxy, { databases: ['medic'], batchSize: 100 }));
    const medic = result.databases[0];
    assert.equal(medic?.outcome, 'failed');
    assert.equal(medic?.error?.code, 'COUCH_PROTOCOL');
    assert.match(medic?.error?.message ?? '', /"medic".*same page again/);
    assert.ok(
      changesRequests(proxy).length <= 4,
      `stopped after ${changesRequests(proxy).length} requests, not thousands`,
    );
    assert.ok((medic?.docs ?? 0) <= 400, `${medic?.docs} documents written, not millions`);
  });

  it('an HTML page with status 200 on _changes is reported as a web page, not as a cut connection', async () => {
    const { pool, proxy } = await setup();
    for (let i = 0; i < 5; i++) {
      proxy.fault({
        kind: 'status',
        status: 200,
        headers: { 'content-type': 'text/html' },
        body: '<!doctype html><html><head><title>Wi-Fi login</title></head><body>Sign in</body></html>',
        match: /\/medic\/_changes/,
      });
    }
    const result = await syncOnce(
      options(pool, proxy, {
        databases: ['medic'],
        retryPolicy: { maxAttempts: 2, downBaseMs: 10, slowBaseMs: 10, maxDelayMs: 20 },
      }),
    );
    const error = result.databases[0]?.error;
    assert.equal(error?.code, 'COUCH_PROTOCOL');
    assert.match(error?.message ?? '', /web page \("Wi-Fi login"\)/);
    assert.doesNotMatch(error?.message ?? '', /closed the connection/);
  });

  /** Follows `medic` until a document written once the feed is live lands; how long that took. */
  const followUntilLive = async (
    pool: pg.Pool,
    proxy: ShapingProxy,
    id: string,
    heartbeatMs: number,
  ): Promise<{ ms: number; continuous: ProxiedRequest[] }> => {
    const controller = new AbortController();
    let onLive: () => void = () => undefined;
    const isLive = new Promise<void>((resolve) => (onLive = resolve));
    const running = syncFollow(
      options(pool, proxy, {
        databases: ['medic'],
        signal: controller.signal,
        heartbeatMs,
        quietMs: 50,
        onEvent: (e) => {
          if (e.type === 'state' && e.state.kind === 'live') onLive();
        },
      }),
    );
    await isLive;
    const written = Date.now();
    await couchRequest(couch.url, 'PUT', `/medic/${id}`, { type: 'person', name: 'arrives live' });
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await pool.query<{ n: string }>('select count(*) as n from v1.couchdb where _id = $1', [id]);
      if (Number(r.rows[0]?.n) === 1) break;
      if (Date.now() > deadline) throw new Error('the live change did not arrive');
      await new Promise((r) => setTimeout(r, 50));
    }
    const ms = Date.now() - written;
    controller.abort();
    const result = await running;
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases.map((d) => d.error)));
    return { ms, continuous: changesRequests(proxy).filter((r) => r.url.includes('feed=continuous')) };
  };

  it('follow on a far link: a compressed feed held back is noticed within 3 s (not 2 heartbeats) and read uncompressed; the live change arrives', async () => {
    // The proxy compresses like nginx and holds a gzip feed back, as pouchdb-server does. With the
    // usual 10 s heartbeat, the stall used to take 2 heartbeats + 1 s (21 s) to notice.
    const { pool, proxy } = await setup({ bytesPerSecond: MBIT, latencyMs: 80 });
    const { ms, continuous } = await followUntilLive(pool, proxy, 'field-live-far', 10_000);
    assert.match(continuous[0]?.acceptEncoding ?? '', /gzip/, 'first asked compressed (a far link)');
    assert.match(continuous[0]?.url ?? '', /heartbeat=1000\b/, 'with a short heartbeat until it is seen delivering');
    assert.equal(continuous.at(-1)?.acceptEncoding, 'identity', 'then uncompressed');
    assert.match(continuous.at(-1)?.url ?? '', /heartbeat=10000\b/);
    assert.ok(ms < 10_000, `the live change took ${ms} ms`);
  });

  it('follow on a near server: the live change lands within seconds, on an uncompressed feed', async () => {
    // Near (the quickest answer within 50 ms): asked uncompressed from the start. On a machine so
    // busy that no answer came that fast, the far path above applies: 3 s more, never 21.
    const { pool, proxy } = await setup();
    const { ms, continuous } = await followUntilLive(pool, proxy, 'field-live-near', 10_000);
    assert.equal(continuous.at(-1)?.acceptEncoding, 'identity');
    assert.ok(ms < 10_000, `the live change took ${ms} ms`);
  });
});
