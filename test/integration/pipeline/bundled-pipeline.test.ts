import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CHANGED, changeRows } from './changes';
import {
  createPipelineDb,
  expectedRows,
  expectedSchema,
  PIPELINE_TABLES,
  tableSchema,
  type PipelineDb,
} from './pipeline-harness';
import { deleteRow, fixtureRawRows, upsertRawRows } from './raw-fixture';

/**
 * The bundled pipeline (resources/pipeline) run by our engine on a real PostgreSQL must
 * produce exactly the tables real dbt produced from it (./expected), through a first build,
 * an incremental run over edits/deletes/additions, and a full refresh.
 */
describe('bundled pipeline on the CHT sample documents', () => {
  let db: PipelineDb;

  before(async () => {
    db = await createPipelineDb('pipeline');
    await upsertRawRows(db.pool, fixtureRawRows());
  });
  after(async () => {
    await db?.close();
  });

  test('first build equals the tables real dbt built', async () => {
    await db.run();
    for (const table of PIPELINE_TABLES) {
      assert.deepEqual(await db.rows(table), expectedRows(table, 'first-build'), `table ${table}`);
    }
  });

  test('tables have CHT Pipeline v2 columns, types, constraints and indexes', async () => {
    const expected = expectedSchema();
    for (const table of PIPELINE_TABLES) {
      assert.deepEqual(await tableSchema(db.pool, table), expected[table], `schema of ${table}`);
    }
  });

  test('a second run with no new raw rows changes nothing', async () => {
    await db.run();
    for (const table of PIPELINE_TABLES) {
      assert.deepEqual(await db.rows(table), expectedRows(table, 'first-build'), `table ${table}`);
    }
  });

  test('incremental run applies edits, deletes (cascading) and additions', async () => {
    await upsertRawRows(db.pool, changeRows());
    await db.run();
    for (const table of PIPELINE_TABLES) {
      assert.deepEqual(await db.rows(table), expectedRows(table, 'after-changes'), `table ${table}`);
    }
    // The cascade, spelled out: the deleted CHW is gone from contact, person and patient.
    for (const table of ['contact', 'person', 'patient']) {
      const ids = (await db.rows(table)).map((r) => r.uuid);
      assert.ok(!ids.includes(CHANGED.deletedChw), `${table} still holds the deleted CHW`);
    }
    const places = (await db.rows('place')).map((r) => r.uuid);
    assert.ok(places.includes(CHANGED.personBecomesPlace), 'a person turned village moved to place');
  });

  test('full refresh rebuilds the same tables, and deletes still cascade afterwards', async () => {
    await db.run({ fullRefresh: true });
    for (const table of PIPELINE_TABLES) {
      assert.deepEqual(await db.rows(table), expectedRows(table, 'after-changes'), `table ${table} after full refresh`);
    }
    const expected = expectedSchema();
    for (const table of PIPELINE_TABLES) {
      assert.deepEqual(
        (await tableSchema(db.pool, table)).constraints,
        expected[table]?.constraints,
        `constraints of ${table}`,
      );
    }
    const report = fixtureRawRows().find((r) => r._id === 'fd2f6678-a360-41b8-88cc-a68069d5eeae');
    const person = fixtureRawRows().find((r) => r._id === CHANGED.renamedPerson);
    assert.ok(report && person);
    await upsertRawRows(db.pool, [deleteRow(report, '2026-07-31 00:00:05'), deleteRow(person, '2026-07-31 00:00:05')]);
    await db.run();
    assert.ok(!(await db.rows('data_record')).some((r) => r.uuid === report._id), 'deleted report left data_record');
    for (const table of ['contact', 'person', 'patient']) {
      assert.ok(!(await db.rows(table)).some((r) => r.uuid === person._id), `deleted person left ${table}`);
    }
  });

  test('tags select the same model sets as CHT Pipeline (plus patient in base)', async () => {
    const ran = async (select: string): Promise<string[]> => {
      const { result } = await db.runRaw({ select: [select] });
      assert.equal(result.outcome, 'done', result.warnings.join(' | '));
      return result.models.map((m) => m.model).sort();
    };
    assert.deepEqual(await ran('tag:base'), [
      'contact',
      'contact_type',
      'data_record',
      'document_metadata',
      'patient',
      'person',
      'place',
    ]);
    assert.deepEqual(await ran('tag:user'), ['feedback', 'telemetry', 'telemetry_devices', 'user']);
  });

  test('a full refresh of contact alone keeps the cascade from contact to person/place/patient', async () => {
    const { result } = await db.runRaw({ select: ['contact'], fullRefresh: true });
    assert.equal(result.outcome, 'done', result.warnings.join(' | '));
    for (const table of ['person', 'place', 'patient']) {
      const fk = await db.pool.query(
        `SELECT 1 FROM pg_constraint WHERE contype = 'f' AND conrelid = format('v1.%I', $1::text)::regclass AND confrelid = 'v1.contact'::regclass`,
        [table],
      );
      assert.equal(fk.rowCount, 1, `${table} lost its foreign key to contact`);
    }
    const person = (await db.rows('patient')).find((r) => typeof r.uuid === 'string');
    assert.ok(person, 'the fixture still has a patient');
    await db.pool.query(`DELETE FROM v1.contact WHERE uuid = $1`, [person.uuid]);
    for (const table of ['person', 'patient']) {
      assert.equal(await db.row(table, String(person.uuid)), null, `${table} row survived its contact's delete`);
    }
  });
});
