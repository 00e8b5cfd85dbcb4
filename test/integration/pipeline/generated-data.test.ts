import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateChtDocs } from '../../../app/generator';
import { createPipelineDb, type PipelineDb } from './pipeline-harness';
import { upsertRawRows, type RawRow } from './raw-fixture';

/**
 * A synthetic CHT instance (app/generator: every edge case of cht-data-model.md §5 appears
 * in the first few thousand docs) goes through the bundled pipeline: a first build of 10k
 * docs, then 2k more as an incremental batch. No model may fail, and the derived tables
 * must agree with the raw table (every live contact and report is there, no deleted one).
 */
function rawRows(from: number, to: number, batchOffset: number): RawRow[] {
  const rows = new Map<string, RawRow>();
  let i = 0;
  for (const { database, doc } of generateChtDocs({ seed: 11, docs: to })) {
    i += 1;
    if (i <= from) continue;
    const id = String(doc._id);
    // `_users` never takes an _id from another database (the sync's precedence rule)
    if (database === '_users' && rows.has(id) && rows.get(id)?.source !== 'localhost/_users') continue;
    const json = JSON.stringify(doc)
      .replace(/(\\+u0000)/g, '')
      .replaceAll('\u0000', '');
    const batch = batchOffset + Math.floor((i - 1) / 1000);
    rows.set(id, {
      _id: id,
      saved_timestamp: `2026-07-01 00:${String(Math.floor(batch / 60)).padStart(2, '0')}:${String(batch % 60).padStart(2, '0')}.000001`,
      _deleted: doc._deleted === true,
      source: `localhost/${database}`,
      doc: JSON.parse(json) as Record<string, unknown>,
    });
  }
  return [...rows.values()];
}

describe('bundled pipeline on a generated CHT dataset', () => {
  let db: PipelineDb;

  before(async () => {
    db = await createPipelineDb('pipeline_gen');
  });
  after(async () => {
    await db?.close();
  });

  async function assertConsistent(): Promise<void> {
    const q = async (sql: string): Promise<number> => Number((await db.pool.query<{ n: string }>(sql)).rows[0]?.n);
    const liveContacts = await q(
      `SELECT count(*) AS n FROM v1.couchdb WHERE NOT _deleted AND doc->>'type' IN ('contact','clinic','district_hospital','health_center','person')`,
    );
    assert.equal(await q(`SELECT count(*) AS n FROM v1.contact`), liveContacts, 'contact holds every live contact');
    assert.equal(
      await q(`SELECT (SELECT count(*) FROM v1.person) + (SELECT count(*) FROM v1.place) AS n`),
      liveContacts,
      'each contact is a person or a place',
    );
    const liveReports = await q(
      `SELECT count(*) AS n FROM v1.couchdb WHERE NOT _deleted AND doc->>'type' = 'data_record'`,
    );
    assert.equal(
      await q(`SELECT count(*) AS n FROM v1.data_record`),
      liveReports,
      'data_record holds every live report',
    );
    assert.equal(
      await q(`SELECT count(*) AS n FROM v1.data_record d JOIN v1.couchdb c ON c._id = d.uuid WHERE c._deleted`),
      0,
      'no deleted report',
    );
    assert.equal(
      await q(
        `SELECT count(*) AS n FROM v1.couchdb c LEFT JOIN v1.document_metadata d ON d.uuid = c._id WHERE NOT c._deleted AND d.uuid IS NULL`,
      ),
      0,
      'every live doc has metadata',
    );
    const reportsWithIsoDate = await q(
      `SELECT count(*) AS n FROM v1.data_record d JOIN v1.couchdb c ON c._id = d.uuid WHERE jsonb_typeof(c.doc->'reported_date') = 'string' AND d.reported IS NOT NULL`,
    );
    assert.ok(reportsWithIsoDate > 0, 'string reported_date values are parsed, not dropped');
  }

  test('first build of 10k generated docs: every model succeeds and tables agree with the raw data', async () => {
    await upsertRawRows(db.pool, rawRows(0, 10_000, 0));
    await db.run();
    await assertConsistent();
  });

  test('2k more docs (edits, deletes, new) as an incremental batch keep the tables consistent', async () => {
    await upsertRawRows(db.pool, rawRows(10_000, 12_000, 100));
    await db.run();
    await assertConsistent();
  });
});
