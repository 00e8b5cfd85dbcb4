import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EDGE_CASES, edgeCaseRows, ODD_SETTINGS } from './edge-cases';
import { createPipelineDb, type PipelineDb } from './pipeline-harness';
import { fixtureRawRows, upsertRawRows } from './raw-fixture';

/**
 * One odd value must never fail a model: the documents of edge-cases.ts (ISO and string
 * reported_date, facility_id arrays, "" and "{}" lineage, malformed dates, typeless docs …)
 * go through, both in a first build and as an incremental batch, with the values listed.
 */
async function problems(db: PipelineDb): Promise<string[]> {
  const out: string[] = [];
  for (const edge of EDGE_CASES) {
    const id = String(edge.doc._id);
    for (const [table, expected] of Object.entries(edge.expect)) {
      const row = await db.row(table, id);
      if (expected === null) {
        if (row) out.push(`${table}: ${id} should have no row`);
        continue;
      }
      if (!row) {
        out.push(`${table}: ${id} has no row`);
        continue;
      }
      for (const [column, value] of Object.entries(expected)) {
        if (JSON.stringify(row[column]) !== JSON.stringify(value)) {
          out.push(`${table}.${column} of ${id}: ${JSON.stringify(row[column])}, expected ${JSON.stringify(value)}`);
        }
      }
    }
  }
  return out;
}

describe('odd values real CHT data holds', () => {
  let first: PipelineDb;
  let incremental: PipelineDb;

  before(async () => {
    first = await createPipelineDb('pipeline_odd');
    incremental = await createPipelineDb('pipeline_odd_inc');
  });
  after(async () => {
    await first?.close();
    await incremental?.close();
  });

  test('first build over fixture + edge cases: every model succeeds with the listed values', async () => {
    await upsertRawRows(first.pool, [...fixtureRawRows(), ...edgeCaseRows('2026-07-31 00:00:00.000001')]);
    await first.run();
    assert.deepEqual(await problems(first), []);
  });

  test('edge cases arriving incrementally give the same values', async () => {
    await upsertRawRows(incremental.pool, fixtureRawRows());
    await incremental.run();
    await upsertRawRows(incremental.pool, edgeCaseRows('2026-07-31 00:00:00.000001'));
    await incremental.run();
    assert.deepEqual(await problems(incremental), []);
  });

  test('a settings doc with odd contact_types does not fail contact_type or its children', async () => {
    await upsertRawRows(first.pool, [
      {
        _id: 'settings',
        saved_timestamp: '2026-07-31 00:00:02',
        _deleted: false,
        source: 'localhost/medic',
        doc: ODD_SETTINGS,
      },
    ]);
    await first.run();
    const types = new Map((await first.rows('contact_type')).map((r) => [r.id, r]));
    assert.deepEqual(types.get('household_member'), { id: 'household_member', person: true, configured: true });
    assert.deepEqual(types.get('odd_person_flag'), { id: 'odd_person_flag', person: false, configured: true });
    assert.deepEqual(types.get('numeric_flag'), { id: 'numeric_flag', person: true, configured: true });
    assert.deepEqual(types.get('person'), { id: 'person', person: true, configured: false });
    assert.ok(![...types.keys()].some((k) => k === null || k === ''), 'no NULL or empty contact type id');
  });

  test('a settings doc whose contact_types is not an array does not fail', async () => {
    await upsertRawRows(first.pool, [
      {
        _id: 'settings',
        saved_timestamp: '2026-07-31 00:00:03',
        _deleted: false,
        source: 'localhost/medic',
        doc: { _id: 'settings', settings: { contact_types: { id: 'not-a-list' } } },
      },
    ]);
    await first.run();
    assert.ok((await first.rows('contact_type')).some((r) => r.id === 'person'));
  });
});
