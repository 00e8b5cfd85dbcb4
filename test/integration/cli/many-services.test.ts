/**
 * Three `cht-sync run` services — one per CHT instance, here three databases on one server that
 * share some document ids — write into one PostgreSQL schema at once while documents keep
 * arriving, are edited and deleted. Every (source, _id) lands exactly once, document_metadata
 * agrees with the raw table, each service answers /healthz and /metrics, logs JSON lines on
 * standard output (not a terminal), stops cleanly on SIGTERM, and none logs a deadlock, an
 * "already exists" or any error.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { createTestDatabase } from '../../support/postgres';
import { TEST_ADMIN } from '../../support/pouchdb-server';
import { assertSameAsCouch, couchRequest, createDb, newPool } from '../sync/helpers';
import { cliBundleOptions } from '../../../resources/scripts/cli-bundle.mjs';

const couchUrl = process.env.CHT_SYNC_TEST_COUCH_URL ?? '';
const BUNDLE = path.resolve('node_modules/.cache/cht-sync-test/cli-many-services.cjs');

interface Service {
  db: string;
  child: ChildProcess;
  stdout: string;
  stderr: string;
  metricsUrl: Promise<string>;
  exit: Promise<number | null>;
}

function doc(id: string, k: number, db: string): Record<string, unknown> {
  return k % 3 === 0
    ? {
        _id: id,
        type: 'person',
        name: `Person ${k}`,
        reported_date: 1_700_000_000_000 + k,
        parent: { _id: `place-${db}` },
      }
    : {
        _id: id,
        type: 'data_record',
        form: 'pregnancy',
        reported_date: 1_700_000_000_000 + k,
        fields: { k, db },
        contact: { _id: 'p-0' },
      };
}

async function bulk(db: string, docs: Record<string, unknown>[]): Promise<void> {
  const r = await couchRequest(couchUrl, 'POST', `/${encodeURIComponent(db)}/_bulk_docs`, { docs });
  assert.equal(r.status, 201, JSON.stringify(r.json));
}

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe(
  'three cht-sync run services into one schema',
  { skip: !couchUrl && 'needs the test CouchDB (npm test)' },
  () => {
    let pgDb: { url: string; drop(): Promise<void> };
    let pool: pg.Pool;
    const dataDirs: string[] = [];
    const services: Service[] = [];
    const prefix = `ms${Date.now().toString(36)}`;
    const dbs = ['a', 'b', 'c'].map((x) => `${prefix}-${x}`);

    before(async () => {
      const { build } = await import('esbuild');
      await build(cliBundleOptions(BUNDLE));
      pgDb = await createTestDatabase('many');
      pool = newPool(pgDb.url);
      for (const db of dbs) {
        await createDb(couchUrl, db);
        // 200 documents each, 40 of them with ids the other instances use too.
        await bulk(
          db,
          Array.from({ length: 200 }, (_, k) => doc(k < 40 ? `shared-${k}` : `${db}-${k}`, k, db)),
        );
      }
    });

    after(async () => {
      for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGKILL');
      await pool?.end();
      await pgDb?.drop();
      for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
      for (const db of dbs) await couchRequest(couchUrl, 'DELETE', `/${encodeURIComponent(db)}`).catch(() => undefined);
    });

    function start(db: string): Service {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-many-'));
      dataDirs.push(dataDir);
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env))
        if (!/^(COUCHDB_|POSTGRES_|DBT_|CHT_SYNC_|CHT_PIPELINE|DATAEMON)/.test(k)) env[k] = v;
      Object.assign(env, {
        COUCHDB_USER: TEST_ADMIN.username,
        COUCHDB_PASSWORD: TEST_ADMIN.password,
        CHT_SYNC_METRICS_PORT: '0',
      });
      const child = spawn(
        process.execPath,
        [
          BUNDLE,
          'run',
          '--couch-url',
          couchUrl,
          '--postgres-url',
          pgDb.url,
          '--data-dir',
          dataDir,
          '--databases',
          db,
          '--interval',
          '1',
        ],
        { env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const s = { db, child, stdout: '', stderr: '' } as Service;
      s.metricsUrl = new Promise((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          s.stdout += d.toString();
          for (const line of s.stdout.split('\n')) {
            if (!line.includes('metrics and health endpoints listening')) continue;
            const entry = JSON.parse(line) as { url?: string };
            if (entry.url) resolve(entry.url);
          }
        });
        child.on('exit', () => reject(new Error(`service ${db} exited early:\n${s.stdout}\n${s.stderr}`)));
      });
      s.metricsUrl.catch(() => undefined);
      child.stderr!.on('data', (d: Buffer) => (s.stderr += d.toString()));
      s.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
      return s;
    }

    it('every document exactly once, document_metadata consistent, health and metrics from each, clean logs and stops', async () => {
      try {
        await exercise();
      } catch (error) {
        // What each service said, to see why.
        const tail = services
          .map((x) => `--- ${x.db}\n${x.stdout.split('\n').slice(-30).join('\n')}\n${x.stderr.slice(-2000)}`)
          .join('\n');
        throw new Error(`${String((error as Error).message ?? error)}\n${tail}`);
      }
    });

    async function exercise(): Promise<void> {
      for (const db of dbs) services.push(start(db));
      const urls = await Promise.all(services.map((s) => s.metricsUrl));

      // Documents arrive, change and go while the three run.
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          dbs.map(async (db) => {
            await bulk(
              db,
              Array.from({ length: 50 }, (_, k) => doc(`${db}-new-${round}-${k}`, 1000 + k, db)),
            );
            const got = await couchRequest(couchUrl, 'GET', `/${encodeURIComponent(db)}/${db}-${60 + round}`);
            const rev = (got.json as { _rev: string })._rev;
            await bulk(db, [{ ...doc(`${db}-${60 + round}`, 60 + round, db), _rev: rev, edited: round }]);
            const gone = await couchRequest(couchUrl, 'GET', `/${encodeURIComponent(db)}/${db}-${100 + round}`);
            await bulk(db, [
              { _id: `${db}-${100 + round}`, _rev: (gone.json as { _rev: string })._rev, _deleted: true },
            ]);
          }),
        );
        await new Promise((r) => setTimeout(r, 700));
      }

      // Each (source, _id) exactly once, at CouchDB's newest revision. Waited for as such: every
      // id being there (the count) does not mean every edit and delete is — a round's edit and
      // delete are later changes than its new documents, and may land in a later batch.
      const expected = 3 * (200 + 150);
      await until(
        'PostgreSQL to hold every document at its newest revision',
        async () => {
          await assertSameAsCouch(pool, couchUrl, dbs, '127.0.0.1');
          return true;
        },
        60_000,
      ).catch(async (error: unknown) => {
        const bySource = await pool.query(
          'select source, count(*)::int as n from v1.couchdb_all group by 1 order by 1',
        );
        throw new Error(
          `${String(error)}; rows per source ${JSON.stringify(bySource.rows)}, expected ${expected / 3} each`,
        );
      });
      const dupes = await pool.query('select source, _id from v1.couchdb_all group by 1, 2 having count(*) > 1');
      assert.equal(dupes.rowCount, 0);

      // The models catch up with the raw table: one document_metadata row per live document (tombstones: only the newest may stay).
      await until(
        'document_metadata to match the raw table',
        async () => {
          const diff = await pool.query(
            `(select _id, saved_timestamp from v1.couchdb where not coalesce(_deleted, false)
            except select uuid, saved_timestamp from v1.document_metadata where not _deleted)
           union all
           (select uuid, saved_timestamp from v1.document_metadata where not _deleted
            except select _id, saved_timestamp from v1.couchdb where not coalesce(_deleted, false))`,
          );
          return diff.rowCount === 0;
        },
        60_000,
      );

      // Each service has finished a transform run since: built the models, or found them built by another (coalesced).
      const runs = (text: string, outcome: string): number =>
        Number(
          new RegExp(`^cht_sync_transform_runs_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0,
        );
      const finished = await Promise.all(
        urls.map((url) =>
          until(
            'a finished transform run',
            async () => {
              const text = await (await fetch(`${url}/metrics`)).text();
              return runs(text, 'done') + runs(text, 'coalesced') > 0
                ? {
                    done: runs(text, 'done'),
                    coalesced: runs(text, 'coalesced'),
                    failed: runs(text, 'failed') + runs(text, 'partial'),
                  }
                : null;
            },
            60_000,
          ),
        ),
      );
      assert.ok(
        finished.some((f) => f.done > 0),
        JSON.stringify(finished),
      );
      assert.ok(
        finished.every((f) => f.failed === 0),
        JSON.stringify(finished),
      );
      console.log(
        `transform runs per service (done / coalesced): ${finished.map((f) => `${f.done} / ${f.coalesced}`).join(', ')}`,
      );

      for (const [i, url] of urls.entries()) {
        assert.equal((await fetch(`${url}/healthz`)).status, 200);
        const ready = await fetch(`${url}/readyz`);
        assert.equal(ready.status, 200, await ready.text());
        const text = await (await fetch(`${url}/metrics`)).text();
        const synced = new RegExp(`^cht_sync_documents_synced_total\\{database="${dbs[i]}"\\} (\\d+)$`, 'm').exec(text);
        assert.ok(
          synced && Number(synced[1]) >= 350,
          `service ${dbs[i]} counts its documents:\n${text.slice(0, 2000)}`,
        );
        assert.match(text, /^# TYPE cht_sync_model_duration_seconds histogram$/m);
      }

      for (const s of services) s.child.kill('SIGTERM');
      const codes = await Promise.all(services.map((s) => s.exit));
      assert.deepEqual(codes, [0, 0, 0], services.map((s) => s.stderr).join('\n'));
      for (const s of services) {
        const lines = s.stdout.trim().split('\n');
        const entries = lines.map((line) => {
          try {
            return JSON.parse(line) as { level: string; message?: string; msg?: string };
          } catch {
            throw new Error(`service ${s.db}: not a JSON log line: ${line}`);
          }
        });
        const text = s.stdout;
        assert.doesNotMatch(text, /deadlock|already exists|duplicate key/i, `service ${s.db} logs:\n${text}`);
        const errors = entries.filter((e) => e.level === 'error');
        assert.deepEqual(errors, [], `service ${s.db} logged errors`);
        assert.ok(
          entries.some((e) => (e.msg ?? e.message ?? '').includes('stopped cleanly')),
          `service ${s.db} says it stopped cleanly`,
        );
        assert.doesNotMatch(text, new RegExp(TEST_ADMIN.password), 'no password in the logs');
      }
    }
  },
);
