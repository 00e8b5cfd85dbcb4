/**
 * Daemon runs that find their work done are coalesced (run/coordination.ts): a run whose raw
 * tables hold nothing newer than what the last complete run started from does nothing. That
 * holds only when a run takes every new row: with a `batch_size` var (cht-sync's
 * DBT_BATCH_SIZE) each run takes one batch, and the next run has the rest to do.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { COALESCED_WARNING, runTransform, type TransformOptions } from '../../../app/transform';
import { createTestDatabase } from '../../support/postgres';

/** An incremental model over the raw table that takes at most `batch_size` new rows per run (as the bundled pipeline does). */
const BATCHED_MODEL = `{{ config(materialized='incremental', unique_key='id') }}
select _id as id, saved_timestamp from {{ var('raw') }}
{% if is_incremental() %}where saved_timestamp > (select coalesce(max(saved_timestamp), '-infinity') from {{ this }}){% endif %}
order by saved_timestamp
{% if var('batch_size', none) is not none %}limit {{ var('batch_size') }}{% endif %}
`;

function project(vars: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cht-coord-'));
  writeFileSync(
    path.join(dir, 'dbt_project.yml'),
    `name: 'coord'\nversion: '1'\nconfig-version: 2\nvars:\n  batch_size: ${vars}\n`,
  );
  mkdirSync(path.join(dir, 'models'));
  writeFileSync(path.join(dir, 'models', 'meta.sql'), BATCHED_MODEL);
  return dir;
}

describe('coalesced daemon runs', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  before(async () => {
    db = await createTestDatabase('tcoord');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  /** A raw table of `rows` rows, one saved_timestamp each, in its own schema. */
  const rawTable = async (schema: string, rows: number): Promise<void> => {
    await pool.query(`create schema ${schema}`);
    await pool.query(
      `create table ${schema}.couchdb (saved_timestamp timestamp, _id varchar primary key, _deleted boolean, source varchar, doc jsonb)`,
    );
    await pool.query(
      `insert into ${schema}.couchdb select timestamp '2026-01-01' + g * interval '1 second', 'doc-' || g, false, 'x/medic', '{}' from generate_series(1, $1) g`,
      [rows],
    );
  };
  const daemonRun = (schema: string, dir: string, o: Partial<TransformOptions> = {}): ReturnType<typeof runTransform> =>
    runTransform({
      project: { kind: 'path', path: dir },
      cacheDir: mkdtempSync(path.join(tmpdir(), 'cht-coord-c-')),
      pool,
      database: db.name,
      schema,
      table: 'couchdb',
      logger: silentLogger,
      coalesce: true,
      ...o,
      vars: { raw: `${schema}.couchdb`, ...o.vars },
    });
  const modelRows = async (schema: string): Promise<number> =>
    Number((await pool.query<{ n: string }>(`select count(*) as n from ${schema}.meta`)).rows[0]?.n);

  it('a run with nothing new since the last complete run is coalesced; a new row makes the next one run', async () => {
    await rawTable('whole', 5);
    const dir = project('null');
    const first = await daemonRun('whole', dir);
    assert.equal(first.result.outcome, 'done', JSON.stringify(first.result.models));
    assert.ok(!first.result.warnings.includes(COALESCED_WARNING));
    assert.equal(await modelRows('whole'), 5);
    const second = await daemonRun('whole', dir);
    assert.ok(second.result.warnings.includes(COALESCED_WARNING), 'nothing new: coalesced');
    assert.equal(second.result.models.length, 0);
    await pool.query(`insert into whole.couchdb values (timestamp '2026-01-02', 'doc-new', false, 'x/medic', '{}')`);
    const third = await daemonRun('whole', dir);
    assert.ok(!third.result.warnings.includes(COALESCED_WARNING), 'a new row: not coalesced');
    assert.equal(await modelRows('whole'), 6);
  });

  for (const [how, vars, projectVar] of [
    ['given as a var of the run (DBT_BATCH_SIZE)', { batch_size: 2 }, 'null'],
    ['set in dbt_project.yml', {}, '2'],
  ] as const) {
    it(`with batch_size ${how}, each run takes the next batch: none is coalesced while rows wait`, async () => {
      const schema = `batched_${projectVar === 'null' ? 'cli' : 'project'}`;
      await rawTable(schema, 5);
      const dir = project(projectVar);
      for (const expected of [2, 4, 5]) {
        const out = await daemonRun(schema, dir, { vars });
        assert.equal(out.result.outcome, 'done', JSON.stringify(out.result.models));
        assert.ok(!out.result.warnings.includes(COALESCED_WARNING), `not coalesced with ${expected} rows taken`);
        assert.equal(await modelRows(schema), expected);
      }
    });
  }
});
