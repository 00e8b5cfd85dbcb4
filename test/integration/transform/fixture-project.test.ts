import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { memoryLogger } from '../../../app/core/logger';
import { runTransform, type TransformOptions } from '../../../app/transform';
import { createTestDatabase } from '../../support/postgres';
import { snapshotSchema, type SchemaSnapshot } from './snapshot';

const FIX = path.join(__dirname, '../../fixtures/dbt-projects');
const expected = (step: number): SchemaSnapshot =>
  JSON.parse(readFileSync(path.join(FIX, 'expected', `dbt-postgres-step${step}.json`), 'utf8')) as SchemaSnapshot;

/**
 * The fixture project (every materialization, contracts with FK cascades, hooks, ephemeral,
 * package + nested package macros, dispatch, var/env_var, statement/run_query while rendering)
 * run by our engine must leave exactly what dbt-postgres left (expected/*.json, captured from a
 * real dbt run), step by step.
 */
describe('fixture dbt project against dbt-postgres results', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'cht-transform-'));
  const logger = memoryLogger();
  let fingerprints = new Map<string, string>();

  before(async () => {
    db = await createTestDatabase('tfix');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    await pool.query(readFileSync(path.join(FIX, 'seed.sql'), 'utf8'));
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  const run = async (o: Partial<TransformOptions> = {}): Promise<Awaited<ReturnType<typeof runTransform>>> => {
    const out = await runTransform({
      project: { kind: 'path', path: path.join(FIX, 'full') },
      cacheDir,
      pool,
      database: db.name,
      schema: 'v1',
      table: 'couchdb',
      threads: 3,
      logger,
      previousFingerprints: fingerprints,
      ...o,
    });
    fingerprints = out.fingerprints;
    return out;
  };
  const snap = (): Promise<SchemaSnapshot> => snapshotSchema(db.url, 'v1', ['couchdb', 'run_log']);

  it('step 1: first build equals dbt-postgres', async () => {
    const out = await run();
    assert.equal(out.result.outcome, 'done', JSON.stringify(out.result.models.filter((m) => m.status !== 'success')));
    assert.equal(out.result.models.length, 14, 'ephemeral models are inlined, not run');
    assert.deepEqual(await snap(), expected(1));
    const log = await pool.query(`select note, n from v1.run_log order by note`);
    assert.deepEqual(log.rows, [
      { note: 'failed', n: 0 },
      { note: 'ok', n: 14 },
      { note: 'package hook', n: 14 },
    ]);
    assert.ok(logger.entries.some((e) => e.message === 'dbt project parsed'));
  });

  it('step 2: incremental run with edits and deletes equals dbt-postgres', async () => {
    await pool.query(readFileSync(path.join(FIX, 'step2.sql'), 'utf8'));
    // schema_v2 changes two models' columns: sync_all_columns and append_new_columns at work.
    const out = await run({ vars: { schema_v2: true } });
    assert.equal(out.result.outcome, 'done');
    assert.ok(!out.result.models.some((m) => m.refreshReason), 'nothing changed in the project: no full refresh');
    assert.deepEqual(await snap(), expected(2));
  });

  it('step 3: full refresh of docs equals dbt-postgres, but the children keep their foreign keys', async () => {
    const out = await run({ select: ['docs'], fullRefresh: true });
    assert.deepEqual(
      out.result.models.map((m) => m.model),
      ['docs'],
    );
    const ours = await snap();
    const theirs = expected(3);
    const fk = 'f FOREIGN KEY (id) REFERENCES v1.docs(id) ON DELETE CASCADE';
    for (const t of ['contacts', 'user']) {
      assert.ok(ours[t]!.constraints.includes(fk), `${t} keeps its FK`);
      assert.ok(!theirs[t]!.constraints.includes(fk), `dbt dropped ${t}'s FK`);
      ours[t]!.constraints = ours[t]!.constraints.filter((c) => c !== fk);
    }
    assert.deepEqual(ours, theirs);
  });

  it('step 4: a delete after the refresh still cascades (where dbt-postgres keeps the orphan)', async () => {
    await pool.query(readFileSync(path.join(FIX, 'step3.sql'), 'utf8'));
    const out = await run();
    // Back to the v1 columns: synced's text → timestamp change fails in dbt-postgres (its
    // alter_column_type copies without a cast) and fails here the same way.
    assert.equal(out.result.outcome, 'partial');
    const synced = out.result.models.find((m) => m.model === 'synced')!;
    assert.equal(synced.status, 'error');
    assert.match(
      synced.error!.message,
      /column "saved_timestamp__dbt_alter" is of type timestamp without time zone but expression is of type text/,
    );
    const ours = await snap();
    assert.ok(!ours.contacts!.rows.some((r) => r.startsWith('(p2,')), 'p2 left contacts through the cascade');
    assert.ok(
      expected(4).contacts!.rows.some((r) => r.startsWith('(p2,')),
      'dbt-postgres kept p2 (its FK was dropped)',
    );
    // Everything not downstream of that cascade is identical.
    for (const t of [
      'docs',
      'helper_docs_count',
      'broken',
      'after_broken',
      'merged',
      'appended',
      'multi_key',
      'synced',
      'appended_new',
    ])
      assert.deepEqual(ours[t], expected(4)[t], t);
  });

  it('a failing model skips only its descendants and reports model, file and SQL', async () => {
    const out = await run({ vars: { break_it: true } });
    assert.equal(out.result.outcome, 'partial');
    const broken = out.result.models.find((m) => m.model === 'broken')!;
    assert.equal(broken.status, 'error');
    assert.equal(broken.error?.code, 'MODEL_RUN');
    assert.match(broken.error!.message, /no_such_column/);
    assert.equal(broken.error?.details?.file, 'fixture_root/models/broken/broken.sql');
    assert.match(String(broken.error?.details?.sqlFragment), /no_such_column/);
    const after = out.result.models.find((m) => m.model === 'after_broken')!;
    assert.equal(after.status, 'skipped');
    assert.equal(after.skippedBecause, 'broken');
    assert.equal(
      out.result.models.filter((m) => m.status === 'success').length,
      11,
      'everything else ran (synced still fails on its type change)',
    );
  });

  it('a changed model is fully refreshed with its descendants, with a warning saying why', async () => {
    const changed = new Map(fingerprints);
    changed.set('model.fixture_root.docs', 'an-older-version');
    fingerprints = changed;
    const out = await run({ select: ['docs+'] });
    const docs = out.result.models.find((m) => m.model === 'docs')!;
    assert.match(docs.refreshReason ?? '', /changed since its last build/);
    assert.ok(out.result.warnings.some((w) => /Model docs will be fully refreshed/.test(w)));
    assert.ok(
      !out.result.models.find((m) => m.model === 'contacts')!.refreshReason,
      'children are unchanged: their own fingerprints did not change',
    );
  });

  it('selection: tag, path, package, config.materialized, selectors.yml, exclude, state:modified', async () => {
    const names = async (o: Partial<TransformOptions>): Promise<string[]> =>
      (await run(o)).result.models.map((m) => m.model).sort();
    assert.deepEqual(await names({ select: ['package:fixture_helpers'] }), ['helper_docs_count']);
    assert.deepEqual(await names({ select: ['path:models/broken'] }), ['after_broken', 'broken']);
    assert.deepEqual(await names({ select: ['config.materialized:view'] }), ['after_broken', 'contacts_view']);
    assert.deepEqual(await names({ select: ['contacts_only'] }), [
      'contact_counts',
      'contacts',
      'contacts_mv',
      'merged',
      'user',
    ]);
    assert.deepEqual(await names({ select: ['+contacts'], exclude: ['tag:contacts'] }), ['docs']);
    assert.deepEqual(await names({ select: ['state:modified'] }), []);
  });
});
