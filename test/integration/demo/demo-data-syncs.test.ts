import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { startDemoCouch, type DemoCouch } from '../../../app/demo';
import { generateChtDocs } from '../../../app/generator';
import { syncOnce } from '../../../app/engine/sync-wiring';
import { ensureRawSchema } from '../../../app/postgres/raw-schema';
import { createTestDatabase } from '../../support/postgres';

// Enough documents for every forced edge case of the generator to be present.
const DOCS = 6000;
const SEED = 4242;
const HASH_FIELDS = ['password_scheme', 'pbkdf2_prf', 'iterations', 'derived_key', 'salt'];

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value && typeof value === 'object') return Object.values(value).some(hasNul);
  return false;
}

/**
 * The generator's edge cases through the real path: demo pouchdb-server → syncOnce → PostgreSQL.
 * Checks the generated set lands whole and sanitised (cht-data-model.md §0, issue 2).
 */
describe('demo data through the sync', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-demo-sync-'));
  let demo: DemoCouch | null = null;
  let drop: (() => Promise<void>) | null = null;
  after(async () => {
    await demo?.stop();
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lands every generated document once, with NULs stripped, backslashes kept and password hashes gone', async () => {
    demo = await startDemoCouch({ dataDir, docs: DOCS, seed: SEED, logger: silentLogger });
    const db = await createTestDatabase('demo_sync');
    drop = db.drop;
    const pool = new pg.Pool({ connectionString: db.url, max: 6 });
    try {
      await ensureRawSchema(pool, 'v1', 'couchdb');
      const saved = new Map<string, { seq: string; pending: number | null; updatedAt: string }>();
      const result = await syncOnce({
        couch: { url: demo.url, username: demo.username, password: demo.password },
        databases: demo.databases,
        pool,
        schema: 'v1',
        table: 'couchdb',
        batchSize: 500,
        maxBatchBytes: 16 * 1024 * 1024,
        checkpoints: {
          get: (s) => saved.get(s) ?? null,
          set: (s, seq, pending) => void saved.set(s, { seq, pending, updatedAt: new Date().toISOString() }),
        },
        logger: silentLogger,
      });
      assert.equal(
        result.outcome,
        'done',
        JSON.stringify(result.databases.map((d) => [d.database, d.outcome, d.error?.message])),
      );

      const expected = { total: 0, deleted: 0, nulDocs: new Set<string>(), backslashTexts: [] as string[] };
      for (const { doc } of generateChtDocs({ seed: SEED, docs: DOCS })) {
        expected.total += 1;
        if (doc._deleted) expected.deleted += 1;
        if (hasNul(doc)) expected.nulDocs.add(String(doc._id));
        if (typeof doc.notes === 'string' && doc.notes.includes('\\')) expected.backslashTexts.push(doc.notes);
      }
      assert.ok(
        expected.nulDocs.size > 0 && expected.backslashTexts.length > 0,
        'the generated set has NULs and backslashes',
      );

      const q = async (sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> =>
        (await pool.query(sql, params)).rows as Record<string, unknown>[];
      // every (database, _id) once; pouchdb-server's _users adds its own _design/_auth
      const [counts] = await q(
        'select count(*)::int as n, count(*) filter (where _deleted)::int as deleted, count(distinct (source, _id))::int as distinct_keys from v1.couchdb_all',
      );
      assert.equal(counts?.n, expected.total + 1);
      assert.equal(counts?.distinct_keys, expected.total + 1);
      assert.equal(counts?.deleted, expected.deleted);

      // jsonb cannot hold a NUL at all: what matters is that those documents were not skipped
      const nulRows = await q('select _id, doc from v1.couchdb_all where _id = any($1)', [[...expected.nulDocs]]);
      assert.equal(nulRows.length, expected.nulDocs.size, 'documents with a NUL landed');
      for (const text of expected.backslashTexts) {
        const [row] = await q(`select count(*)::int as n from v1.couchdb_all where doc->>'notes' = $1`, [text]);
        assert.ok(Number(row?.n) >= 1, `backslashes kept in ${JSON.stringify(text)}`);
      }
      const users = await q(
        `select doc, _deleted from v1.couchdb_all where source like '%/_users' and _id like 'org.couchdb.user:%'`,
      );
      assert.ok(users.length > 0 && users.some((u) => u._deleted === true), 'live and deleted _users docs synced');
      for (const u of users) {
        for (const field of HASH_FIELDS)
          assert.ok(
            !(field in (u.doc as Record<string, unknown>)),
            `${field} stripped from ${String((u.doc as { _id?: string })._id)}`,
          );
      }
      const [huge] = await q('select count(*)::int as n from v1.couchdb_all where octet_length(doc::text) >= 1000000');
      assert.ok(Number(huge?.n) >= 1, 'the ≥ 1 MB document landed');
    } finally {
      await pool.end();
    }
  });
});
