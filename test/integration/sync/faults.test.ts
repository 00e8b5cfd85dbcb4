import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { memoryLogger, silentLogger } from '../../../app/core/logger';
import { generateChtDocs, seedCouch } from '../../../app/generator';
import { syncFollow, syncOnce } from '../../../app/engine/sync-wiring';
import type { SyncEvent, SyncOptions } from '../../../app/sync/types';
import { createTestDatabase, testPostgresUrl } from '../../support/postgres';
import { startPouchServer, type PouchServer } from '../../support/pouchdb-server';
import { assertSameAsCouch, couchRequest, memoryCheckpoints, newPool } from './helpers';

const DBS = ['medic', 'medic-sentinel', 'medic-users-meta', '_users'];
const HOST = '127.0.0.1';

describe('sync under faults (pouchdb-server with 3,000 generated docs, real PostgreSQL)', () => {
  let couch: PouchServer;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    couch = await startPouchServer();
    await seedCouch(
      couch.url,
      { username: couch.username, password: couch.password },
      generateChtDocs({ seed: 11, docs: 3000 }),
    );
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await couch?.stop();
  });

  const freshPg = async (): Promise<{ url: string; name: string; pool: pg.Pool }> => {
    const db = await createTestDatabase('sync_faults');
    const pool = newPool(db.url);
    cleanups.push(async () => {
      await pool.end();
      await db.drop();
    });
    return { url: db.url, name: db.name, pool };
  };
  const options = (pool: pg.Pool, extra: Partial<SyncOptions> = {}): SyncOptions => ({
    couch: { url: couch.url, username: couch.username, password: couch.password },
    databases: DBS,
    pool,
    schema: 'v1',
    table: 'couchdb',
    batchSize: 100,
    maxBatchBytes: 16 * 1024 * 1024,
    checkpoints: memoryCheckpoints(),
    logger: silentLogger,
    ...extra,
  });

  it('PostgreSQL connections terminated during a run: batches are retried, nothing lost or doubled', async () => {
    const { pool, name } = await freshPg();
    const admin = new pg.Client({ connectionString: testPostgresUrl() });
    await admin.connect();
    cleanups.push(() => admin.end());
    let batches = 0;
    let kills = 0;
    let terminating: Promise<unknown> = Promise.resolve();
    const logger = memoryLogger();
    const result = await syncOnce(
      options(pool, {
        logger,
        onEvent: (e) => {
          if (e.type !== 'batch') return;
          batches++;
          if (batches === 3 || batches === 12) {
            terminating = admin
              .query(
                'select count(pg_terminate_backend(pid)) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
                [name],
              )
              .then((r: pg.QueryResult<{ n: string }>) => (kills += Number(r.rows[0]?.n ?? 0)));
          }
        },
      }),
    );
    await terminating;
    assert.ok(kills > 0, 'backends were terminated');
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases.map((d) => d.error)));
    assert.ok(
      logger.entries.some((e) => e.message.includes('retrying')),
      'the sink retried',
    );
    await assertSameAsCouch(pool, couch.url, DBS, HOST);
  });

  it('kill -9 while a batch transaction is open, then resume: no loss, no duplicates', async () => {
    const { pool, url, name } = await freshPg();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/sync/sync-child.ts'], {
      env: {
        ...process.env,
        CHILD_PG_URL: url,
        CHILD_COUCH_URL: couch.url,
        CHILD_COUCH_USER: couch.username,
        CHILD_COUCH_PASSWORD: couch.password,
        CHILD_DBS: DBS.join(','),
        CHILD_BATCH: '40',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let seen = 0;
    let isDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('batch')).length;
      if (chunk.toString().includes('done')) isDone = true;
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    // Strike while one of the child's batch transactions is open (COPY, upsert or progress not yet committed).
    let inTransaction = 0;
    const deadline = Date.now() + 60_000;
    while (child.exitCode === null && Date.now() < deadline) {
      if (seen >= 4) {
        const open = await pool.query<{ n: string }>(
          'select count(*) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid() and backend_xid is not null',
          [name],
        );
        inTransaction = Number(open.rows[0]?.n ?? 0);
        if (inTransaction > 0) {
          child.kill('SIGKILL');
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(
      await exited,
      'SIGKILL',
      isDone ? 'the child finished before it could be killed' : 'the child was not killed',
    );
    assert.ok(inTransaction > 0, 'killed with a write transaction open');
    const partial = await pool.query<{ n: string }>('select count(*) as n from v1.couchdb_all');
    const copied = Number(partial.rows[0]?.n);
    assert.ok(copied > 0, 'some batches committed before the kill');

    const result = await syncOnce(options(pool));
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases.map((d) => d.error)));
    assert.ok(
      result.databases.some((d) => d.seqBefore !== null),
      'the resumed run started from the saved positions',
    );
    await assertSameAsCouch(pool, couch.url, DBS, HOST);
    const dup = await pool.query('select source, _id from v1.couchdb_all group by 1, 2 having count(*) > 1');
    assert.equal(dup.rowCount, 0);
  });

  it('follow mode: catches up, goes live, picks up new changes, stops cleanly on abort', async () => {
    const { pool } = await freshPg();
    const controller = new AbortController();
    const live = new Set<string>();
    const events: SyncEvent[] = [];
    let onLive: () => void = () => undefined;
    const allLive = new Promise<void>((resolve) => (onLive = resolve));
    const running = syncFollow(
      options(pool, {
        signal: controller.signal,
        heartbeatMs: 2000,
        quietMs: 100,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'state' && e.state.kind === 'live') {
            live.add(e.database);
            if (live.size === DBS.length) onLive();
          }
        },
      }),
    );
    await allLive;
    await assertSameAsCouch(pool, couch.url, DBS, HOST);
    for (let i = 0; i < 3; i++)
      assert.equal(
        (await couchRequest(couch.url, 'PUT', `/medic/live-${i}`, { type: 'person', name: `live ${i}` })).status,
        201,
      );
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await pool.query<{ n: string }>("select count(*) as n from v1.couchdb where _id like 'live-%'");
      if (Number(r.rows[0]?.n) === 3) break;
      if (Date.now() > deadline) throw new Error('live changes did not arrive');
      await new Promise((r) => setTimeout(r, 100));
    }
    controller.abort();
    const result = await running;
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases.map((d) => [d.outcome, d.error])));
    await assertSameAsCouch(pool, couch.url, DBS, HOST);
    const kinds = events
      .filter((e) => e.type === 'state' && e.database === 'medic')
      .map((e) => (e.type === 'state' ? e.state.kind : ''));
    assert.deepEqual(kinds, ['connecting', 'catching-up', 'live', 'idle']);
    const progress = await pool.query<{ pending: number }>(
      `select pending from v1.couchdb_progress where source = '${HOST}/medic'`,
    );
    assert.equal(progress.rows[0]?.pending, 0);
  });

  it('a proxy that drops the socket in the middle of _changes bodies: retried, exact result', async () => {
    const { pool } = await freshPg();
    const target = new URL(couch.url);
    let cutsLeft = 3;
    let cuts = 0;
    const proxy = http.createServer((req, res) => {
      const upstream = http.request(
        { hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          const isChanges = (req.url ?? '').includes('/_changes');
          let sent = 0;
          up.on('data', (chunk: Buffer) => {
            if (isChanges && cutsLeft > 0 && sent > 20_000) {
              cutsLeft--;
              cuts++;
              up.destroy();
              res.socket?.destroy();
              return;
            }
            sent += chunk.length;
            res.write(chunk);
          });
          up.on('end', () => res.end());
        },
      );
      upstream.on('error', () => res.socket?.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          proxy.closeAllConnections();
          proxy.close(() => resolve());
        }),
    );
    const port = (proxy.address() as AddressInfo).port;
    const result = await syncOnce({
      ...options(pool, { batchSize: 500 }),
      couch: { url: `http://127.0.0.1:${port}`, username: couch.username, password: couch.password },
      retryPolicy: { maxAttempts: 5, downBaseMs: 50, slowBaseMs: 50, maxDelayMs: 200 },
    });
    assert.equal(cuts, 3, 'three responses were cut mid-body');
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases.map((d) => d.error)));
    await assertSameAsCouch(pool, couch.url, DBS, HOST);
  });

  it('a deadline that passes before the end reports timeout and resumes next time', async () => {
    const { pool } = await freshPg();
    const result = await syncOnce(options(pool, { timeoutSeconds: 0.3, batchSize: 20 }));
    // the small databases may finish in time: then the run is partial
    assert.ok(['timeout', 'partial'].includes(result.outcome), result.outcome);
    const medic = result.databases.find((d) => d.database === 'medic');
    assert.equal(medic?.outcome, 'timeout');
    assert.equal(medic?.reachedEnd, false);
    assert.equal(medic?.error?.code, 'COUCH_TIMEOUT');
    const resumed = await syncOnce(options(pool));
    assert.equal(resumed.outcome, 'done');
    await assertSameAsCouch(pool, couch.url, DBS, HOST);
  });
});
