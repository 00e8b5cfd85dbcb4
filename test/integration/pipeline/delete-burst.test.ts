import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPipelineDb, type PipelineDb } from './pipeline-harness';
import { deleteRow, fixtureRawRows, upsertRawRows, type RawRow } from './raw-fixture';

/**
 * CHT Pipeline's trap: when the newest raw rows are all deletes, its post-hook removes them,
 * max(saved_timestamp) stays put and (with batch_size) the same deletes are re-read forever.
 * The bundled pipeline keeps the newest tombstones, so every run moves forward.
 */
describe('a burst of deletes at the head of the raw table', () => {
  let db: PipelineDb;
  const live = fixtureRawRows().filter((r) => !r._deleted && !r._id.startsWith('_') && r._id !== 'settings');
  const victims = live.slice(0, 20);

  const maxSaved = async (): Promise<string | null> => {
    const r = await db.pool.query<{ max: string | null }>(
      `SELECT to_char(max(saved_timestamp), 'YYYY-MM-DD HH24:MI:SS.US') AS max FROM v1.document_metadata`,
    );
    return r.rows[0]?.max ?? null;
  };
  const liveIds = async (): Promise<Set<string>> => {
    const r = await db.pool.query<{ uuid: string }>(`SELECT uuid FROM v1.document_metadata WHERE NOT _deleted`);
    return new Set(r.rows.map((x) => x.uuid));
  };

  before(async () => {
    db = await createPipelineDb('pipeline_burst');
    await upsertRawRows(db.pool, fixtureRawRows());
    await db.run();
  });
  after(async () => {
    await db?.close();
  });

  test('20 deletes with batch_size 5 drain in 4 runs, then new documents flow again', async () => {
    // each delete gets its own saved_timestamp so batch_size really cuts the block in four
    const deletes: RawRow[] = victims.map((r, i) =>
      deleteRow(r, `2026-08-01 00:00:00.${String(i + 1).padStart(6, '0')}`),
    );
    await upsertRawRows(db.pool, deletes);
    const seen: string[] = [];
    for (let run = 1; run <= 4; run++) {
      await db.run({ vars: { batch_size: 5 } });
      const max = await maxSaved();
      assert.equal(
        max,
        `2026-08-01 00:00:00.${String(run * 5).padStart(6, '0')}`,
        `run ${run} must advance the watermark by one batch`,
      );
      seen.push(max ?? '');
    }
    const ids = await liveIds();
    for (const v of victims) assert.ok(!ids.has(v._id), `${v._id} is deleted but still live in document_metadata`);
    for (const table of [
      'contact',
      'data_record',
      'person',
      'place',
      'patient',
      'user',
      'feedback',
      'telemetry',
      'telemetry_devices',
    ]) {
      const key = table === 'user' ? 'user_id' : 'uuid';
      const r = await db.pool.query(`SELECT 1 FROM v1."${table}" WHERE "${key}" = ANY($1::text[])`, [
        victims.map((v) => v._id),
      ]);
      assert.equal(r.rowCount, 0, `${table} still holds rows of deleted documents`);
    }
    // only the tombstones at the newest timestamp are kept
    const tomb = await db.pool.query(`SELECT uuid FROM v1.document_metadata WHERE _deleted`);
    assert.equal(tomb.rowCount, 1);

    await db.run({ vars: { batch_size: 5 } });
    assert.equal(await maxSaved(), seen.at(-1), 'a run with nothing new keeps the watermark');

    await upsertRawRows(db.pool, [
      {
        _id: 'after-burst-report',
        saved_timestamp: '2026-08-01 00:00:01',
        _deleted: false,
        source: 'localhost/medic',
        doc: { _id: 'after-burst-report', type: 'data_record', form: 'visit', reported_date: 1785456000000 },
      },
    ]);
    await db.run({ vars: { batch_size: 5 } });
    const r = await db.pool.query(`SELECT form FROM v1.data_record WHERE uuid = 'after-burst-report'`);
    assert.deepEqual(r.rows, [{ form: 'visit' }]);
    assert.equal(
      (await db.pool.query(`SELECT 1 FROM v1.document_metadata WHERE _deleted`)).rowCount,
      0,
      'older tombstones are pruned',
    );
  });

  test('batch_size never splits rows that share a saved_timestamp', async () => {
    const batch: RawRow[] = Array.from({ length: 7 }, (_, i) => ({
      _id: `same-ts-${i}`,
      saved_timestamp: '2026-08-02 00:00:00',
      _deleted: false,
      source: 'localhost/medic',
      doc: { _id: `same-ts-${i}`, type: 'data_record', form: 'f' },
    }));
    const later: RawRow = {
      _id: 'later-ts',
      saved_timestamp: '2026-08-02 00:00:01',
      _deleted: false,
      source: 'localhost/medic',
      doc: { _id: 'later-ts', type: 'data_record' },
    };
    await upsertRawRows(db.pool, [...batch, later]);
    await db.run({ vars: { batch_size: 3 } });
    const got = await db.pool.query<{ uuid: string }>(
      `SELECT uuid FROM v1.document_metadata WHERE uuid LIKE 'same-ts-%' OR uuid = 'later-ts' ORDER BY uuid`,
    );
    assert.deepEqual(
      got.rows.map((r) => r.uuid),
      batch.map((b) => b._id),
      'all 7 rows of the shared timestamp, and not the later one',
    );
    await db.run({ vars: { batch_size: 3 } });
    const all = await db.pool.query(`SELECT 1 FROM v1.data_record WHERE uuid = 'later-ts'`);
    assert.equal(all.rowCount, 1);
  });
});
