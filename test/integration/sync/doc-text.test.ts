/**
 * The feed parser hands docs on as the text CouchDB sent, and the sink stores that text when it
 * can (sync/sanitise.ts). This checks, in a real PostgreSQL, that what lands in `doc jsonb` is
 * exactly what re-serialising the parsed doc (CHT Sync's way) would store — numbers above all,
 * since jsonb keeps a numeric's text (`12.0` stays `12.0`) where JavaScript rewrites it (`12`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { generateChtDocs } from '../../../app/generator';
import { NormalFeedParser } from '../../../app/couch/changes-parser';
import { silentLogger } from '../../../app/core/logger';
import { ensureRawSchema } from '../../../app/postgres/raw-schema';
import { createPgRawSink } from '../../../app/postgres/raw-sink';
import type { ChangeRow } from '../../../app/sync/ports';
import { prepareRow, rowDoc } from '../../../app/sync/sanitise';
import { createTestDatabase } from '../../support/postgres';
import { FIXTURE_DOCS, newPool } from './helpers';

const NUMBERS = [
  '0',
  '-0',
  '12',
  '12.0',
  '-12.50',
  '1.5',
  '0.1',
  '0.30000000000000004',
  '1e5',
  '1E5',
  '1.0e5',
  '2.5e-7',
  '-1e-7',
  '1e21',
  '1e300',
  '0.0000001',
  '0.00000010',
  '123456789012345',
  '1234567890123456',
  '12345678901234567890',
  '9007199254740993',
  '3.14159265358979323846',
  '1700000000000',
  '-0.0',
  '100',
  '0.5000',
  '10.01',
  '5e0',
  '-1.2389632700011135',
  '0.30000000000000004441',
  '1e400',
  '-1e400',
  '5e-324',
  '1.7976931348623157e308',
  '123456789012345678',
  '36.8',
  '-0.5',
  '0.000001',
  '1e-6',
  '1e20',
  '123456789012345680',
];

/** Each number token in several positions and spacings a CouchDB body can put it in. */
function numberDocs(): string[] {
  return NUMBERS.flatMap((n) => [
    `{"_id":"n","a":${n}}`,
    `{"_id":"n","a":[${n}]}`,
    `{"_id":"n","a":[1,${n},2]}`,
    `{ "_id" : "n", "a" : ${n} , "b": { "c" :[ ${n} ] } }`,
    `{"_id":"n","s":"a string with ,${n} in it","a":${n}}`,
  ]);
}

/** The docs as the feed parser hands them on (cutting each doc's text out and checking its numbers), read in chunks of `chunk` bytes. */
function parsedRows(docTexts: string[], chunk: number): ChangeRow[] {
  const body = Buffer.from(
    `{"results":[\n${docTexts.map((d, i) => `{"seq":${i + 1},"id":${JSON.stringify((JSON.parse(d) as { _id: string })._id)},"changes":[{"rev":"1-a"}],"doc":${d}}`).join(',\n')}\n],"last_seq":${docTexts.length}}`,
  );
  const parser = new NormalFeedParser();
  const rows: ChangeRow[] = [];
  for (let o = 0; o < body.length; o += chunk) rows.push(...parser.push(body.subarray(o, o + chunk)));
  parser.end();
  return rows;
}

const rowFor = (docText: string, extra: Partial<ChangeRow> = {}): ChangeRow => ({
  ...(parsedRows([docText], 1 << 16)[0] as ChangeRow),
  ...extra,
});

describe('docs stored as received', () => {
  let pgDb: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  before(async () => {
    pgDb = await createTestDatabase('sync_doctext');
    pool = newPool(pgDb.url);
  });
  after(async () => {
    await pool?.end();
    await pgDb?.drop();
  });

  /** For each doc text: [stored as the sink prepares it, stored as CHT Sync would (parse + stringify)], as jsonb text. */
  async function storedBothWays(
    rows: ChangeRow[],
    isUsersDb = false,
  ): Promise<{ ours: string; reference: string; asReceived: boolean }[]> {
    const ours: string[] = [];
    const reference: string[] = [];
    const asReceived: boolean[] = [];
    for (const row of rows) {
      const prepared = prepareRow(row, isUsersDb);
      const parsed = prepareRow(
        { ...row, doc: rowDoc(row), docText: undefined, docNumbersAsWritten: undefined },
        isUsersDb,
      );
      assert.ok('json' in prepared && 'json' in parsed, `${row.id}: storable`);
      ours.push(prepared.json);
      reference.push(parsed.json);
      asReceived.push(prepared.json === row.docText);
    }
    const result = await pool.query<{ ours: string; reference: string }>(
      'select a::jsonb::text as ours, b::jsonb::text as reference from unnest($1::text[], $2::text[]) as t(a, b)',
      [ours, reference],
    );
    return result.rows.map((r, i) => ({ ...r, asReceived: asReceived[i] as boolean }));
  }

  it('stores every number token exactly as re-serialising would, wherever it sits', async () => {
    const docs = numberDocs();
    // read whole, and cut every few bytes (tokens split across chunks are not trusted: re-serialised)
    for (const chunk of [1 << 16, 7, 3]) {
      const rows = parsedRows(docs, chunk);
      assert.ok(
        chunk < 100 || rows.every((r) => r.docNumbersAsWritten !== undefined),
        'whole tokens are all checked by the parser',
      );
      const stored = await storedBothWays(rows);
      stored.forEach((s, i) => assert.equal(s.ours, s.reference, `${docs[i]} (chunks of ${chunk})`));
      // Not vacuous: some are stored as received, and some had to be rewritten.
      if (chunk > 100) assert.ok(stored.some((s) => s.asReceived) && stored.some((s) => !s.asReceived));
    }
    // What is at stake: jsonb keeps the text of a number.
    const raw = await pool.query<{ t: string }>(`select '{"a":12.0}'::jsonb::text as t`);
    assert.equal(raw.rows[0]?.t, '{"a": 12.0}');
  });

  it('stores the shared fixtures and generated CHT docs as received, most of them without re-serialising', async () => {
    const texts = [
      ...FIXTURE_DOCS.map((d) => JSON.stringify(d)),
      ...[...generateChtDocs({ seed: 7, docs: 3000 })]
        .filter((g) => g.database !== '_users')
        .map((g) => JSON.stringify(g.doc)),
    ];
    const deleted = texts.map((t) => (JSON.parse(t) as { _deleted?: boolean })._deleted === true);
    const stored = await storedBothWays(
      parsedRows(texts, 1 << 16).map((r, i) => ({ ...r, deleted: deleted[i] as boolean })),
    );
    stored.forEach((s, i) => assert.equal(s.ours, s.reference, `doc #${i}`));
    const share = stored.filter((s) => s.asReceived).length / stored.length;
    assert.ok(share > 0.99, `share stored without re-serialising: ${share.toFixed(3)}`);
  });

  it('still sanitises: NULs removed, password fields stripped, a body-only delete recognised', async () => {
    const nul = rowFor('{"_id":"z","a":"x\\u0000y","b":"C:\\\\u0000dir"}');
    const prepared = prepareRow(nul, false);
    assert.ok('json' in prepared);
    assert.deepEqual(JSON.parse(prepared.json), { _id: 'z', a: 'xy', b: 'C:\\u0000dir' });

    const user = rowFor(
      '{"_id":"org.couchdb.user:u","type":"user","name":"u","derived_key":"k","salt":"s","iterations":10}',
    );
    for (const isUsersDb of [true, false]) {
      const u = prepareRow(user, isUsersDb);
      assert.ok('json' in u);
      assert.deepEqual(JSON.parse(u.json), { _id: 'org.couchdb.user:u', type: 'user', name: 'u' });
    }

    const bodyDelete = prepareRow(rowFor('{"_id":"p","type":"person","_deleted":true}'), false);
    assert.ok('json' in bodyDelete && bodyDelete.deleted, 'a row whose body says _deleted is a delete');

    const broken = prepareRow(rowFor('{"_id":"q"}', { docText: '{"_id":"q",}' }), true);
    assert.ok(
      'reason' in broken && /not valid JSON/.test(broken.reason),
      'an unparseable body that must be parsed is skipped with a reason',
    );

    const dates = rowFor(
      '{"_id":"d","at":"2025-02-06T00:00:00.000+03:00","list":"1.50 or 2.0 kg","gps":{"lat":-1.2389632700011135}}',
    );
    assert.equal(
      (prepareRow(dates, false) as { json: string }).json,
      dates.docText,
      'number-like text in strings and shortest-form numbers need no rewrite',
    );
    const stored = await storedBothWays([nul, dates, rowFor('{"_id":"w","ws" : [ 1 , 2 ] ,"é":"\\u00e9\\/"}')]);
    for (const s of stored) assert.equal(s.ours, s.reference);
  });

  it('writes ids and doc text with the special characters of COPY through the sink unchanged', async () => {
    await ensureRawSchema(pool, 'copy_chars', 'couchdb');
    const sink = createPgRawSink({ pool, schema: 'copy_chars', table: 'couchdb', logger: silentLogger });
    const docs = [
      { _id: 'tab\there', text: 'line\nbreak\r\n, tab\t, backslash \\ and \\n, quote "' },
      { _id: 'new\nline\\slash', nested: { path: 'C:\\dir\\file', esc: '\\t is not a tab' } },
      { _id: 'ünï\u2028côdé', emoji: '👩🏽‍⚕️', ctrl: '\u0001\u001f' },
    ];
    const rows = parsedRows(
      docs.map((d) => JSON.stringify(d)),
      1 << 16,
    );
    assert.ok(rows.every((r) => r.docText !== undefined));
    await sink.writeBatch({
      source: 'h/medic',
      precedence: ['h/medic'],
      rows,
      seq: '3',
      pending: 0,
      isUsersDb: false,
      forceProgress: false,
    });
    await sink.close();
    const stored = await pool.query<{ _id: string; doc: unknown }>(
      'select _id, doc from copy_chars.couchdb order by _id',
    );
    assert.deepEqual(
      stored.rows,
      [...docs].sort((a, b) => (a._id < b._id ? -1 : 1)).map((d) => ({ _id: d._id, doc: d })),
    );
  });

  it('a batch with documents PostgreSQL refuses: those are skipped with the reason, the rest written in the same batch', async () => {
    await ensureRawSchema(pool, 'refused', 'couchdb');
    const sink = createPgRawSink({ pool, schema: 'refused', table: 'couchdb', logger: silentLogger });
    const texts = Array.from({ length: 10 }, (_, i) =>
      i === 3 || i === 8 ? `{"_id":"bad-${i}","s":"\\ud800"}` : `{"_id":"ok-${i}","n":${i}}`,
    );
    const result = await sink.writeBatch({
      source: 'h/medic',
      precedence: ['h/medic'],
      rows: parsedRows(texts, 1 << 16),
      seq: '10',
      pending: 0,
      isUsersDb: false,
      forceProgress: false,
    });
    await sink.close();
    assert.deepEqual(
      result.skipped.map((s) => s.id),
      ['bad-3', 'bad-8'],
    );
    assert.match(result.skipped[0]?.reason ?? '', /PostgreSQL rejected the document: .*(surrogate|json)/i);
    assert.equal(result.docs, 8);
    const stored = await pool.query<{ _id: string }>('select _id from refused.couchdb order by _id');
    assert.deepEqual(
      stored.rows.map((r) => r._id),
      ['ok-0', 'ok-1', 'ok-2', 'ok-4', 'ok-5', 'ok-6', 'ok-7', 'ok-9'],
    );
    const progress = await pool.query<{ seq: string }>(
      "select seq from refused.couchdb_progress where source = 'h/medic'",
    );
    assert.equal(progress.rows[0]?.seq, '10', 'the position moves past the refused documents');
  });
});
