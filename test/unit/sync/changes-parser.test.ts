import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ContinuousFeedParser, NormalFeedParser } from '../../../app/couch/changes-parser';
import type { ChangeRow } from '../../../app/sync/ports';
import { rowDoc } from '../../../app/sync/sanitise';

const RECORDED = readFileSync('test/fixtures/couchdb-recorded/medic-changes-1.json');
const SINGLE_LINE = Buffer.from(
  JSON.stringify({
    results: [
      {
        seq: 1,
        id: 'a',
        changes: [{ rev: '1-x' }],
        doc: { _id: 'a', text: 'brace } bracket ] quote " backslash \\ ' },
      },
      { seq: 2, id: 'b', changes: [{ rev: '2-y' }], deleted: true, doc: { _id: 'b', _deleted: true } },
      {
        seq: 3,
        id: 'ü-ñ',
        changes: [{ rev: '1-z' }],
        doc: { _id: 'ü-ñ', name: 'አበበ 👩🏽‍⚕️', nested: { a: [1, [2, { b: '\\"' }]] } },
      },
    ],
    last_seq: 3,
  }),
);

/** A row as the sync sees it, whether the parser cut its doc out as text or parsed it. */
const logical = (row: ChangeRow): unknown => ({
  ...row,
  doc: rowDoc(row),
  docText: undefined,
  docNumbersAsWritten: undefined,
});

function parseIn(
  body: Buffer,
  chunkSizes: (i: number) => number,
): { rows: ChangeRow[]; end: { lastSeq: string; pending: number | null } } {
  const parser = new NormalFeedParser();
  const rows: ChangeRow[] = [];
  let offset = 0;
  let i = 0;
  while (offset < body.length) {
    const size = Math.max(1, chunkSizes(i++));
    rows.push(...parser.push(body.subarray(offset, offset + size)));
    offset += size;
  }
  return { rows, end: parser.end() };
}

describe('NormalFeedParser', () => {
  it('parses CouchDB 3 row-per-line output: opaque seqs, null seqs, deletes, pending', () => {
    const { rows, end } = parseIn(RECORDED, () => RECORDED.length);
    assert.equal(rows.length, 3);
    assert.match(rows[0]?.seq ?? '', /^3-g1AAAA/);
    assert.equal(rows[1]?.seq, null);
    assert.equal(rows[1]?.deleted, true);
    assert.equal(rows[1]?.rev, '3-d0de18aa9e1cd1409c23bf9921a2e7a1');
    assert.equal(rowDoc(rows[2] as ChangeRow)?.name, 'Grace Wanjiku (duplicate)');
    assert.match(end.lastSeq, /^5-g1AAAAIr/);
    assert.equal(end.pending, 4);
  });

  it('gives the same rows whatever the chunk boundaries (every split point, multi-byte chars included)', () => {
    const whole = parseIn(SINGLE_LINE, () => SINGLE_LINE.length);
    assert.equal(whole.rows.length, 3);
    assert.equal(whole.rows[0]?.seq, '1', 'integer seqs (pouchdb-server) become strings');
    assert.equal(rowDoc(whole.rows[0] as ChangeRow)?.text, 'brace } bracket ] quote " backslash \\ ');
    assert.equal(whole.end.pending, null);
    for (let split = 1; split < SINGLE_LINE.length; split++) {
      const two = parseIn(SINGLE_LINE, (i) => (i === 0 ? split : SINGLE_LINE.length));
      assert.deepEqual(two.rows.map(logical), whole.rows.map(logical), `split at ${split}`);
    }
    const bytewise = parseIn(SINGLE_LINE, () => 1);
    assert.deepEqual(bytewise.rows.map(logical), whole.rows.map(logical));
  });

  it('hands each doc on as its exact text, cut out of the row unparsed', () => {
    const { rows } = parseIn(RECORDED, () => RECORDED.length);
    const body = RECORDED.toString('utf8');
    for (const row of rows) {
      assert.equal(row.doc, null, `${row.id}: not parsed`);
      assert.ok(
        row.docText && body.includes(row.docText),
        `${row.id}: the doc text is a verbatim slice of the response`,
      );
      assert.equal((JSON.parse(row.docText) as { _id: string })._id, row.id);
    }
    const whole = parseIn(SINGLE_LINE, () => SINGLE_LINE.length);
    assert.equal(whole.rows[2]?.docText, JSON.stringify(JSON.parse(SINGLE_LINE.toString('utf8')).results[2].doc));
  });

  it('finds the doc whatever the key order and spacing, and ignores "doc" keys inside the doc', () => {
    const body = Buffer.from(
      '{"results":[\n' +
        '{ "doc" : {"_id":"a","doc":{"x":1},"t":"\\"doc\\":{"}, "seq":1, "id":"a", "changes":[{"rev":"1-a"}] },\n' +
        '{"seq":2,"id":"b","changes":[{"rev":"2-b"}],"deleted":true,"doc":null},\n' +
        '{"seq":3,"id":"c","doc":"not an object","changes":[{"rev":"1-c"}]}\n' +
        '],"last_seq":3}',
    );
    const { rows } = parseIn(body, () => body.length);
    assert.equal(rows[0]?.docText, '{"_id":"a","doc":{"x":1},"t":"\\"doc\\":{"}');
    assert.equal(rows[0]?.seq, '1');
    assert.deepEqual([rows[1]?.doc, rows[1]?.docText, rows[1]?.deleted], [null, undefined, true]);
    assert.deepEqual([rows[2]?.doc, rows[2]?.docText], [null, undefined], 'a doc that is not an object is no doc');
  });

  it('counts each row by its bytes on the wire', () => {
    const { rows } = parseIn(SINGLE_LINE, () => 7);
    const total = rows.reduce((n, r) => n + r.bytes, 0);
    assert.ok(total < SINGLE_LINE.length && total > SINGLE_LINE.length - 60);
  });

  it('a body cut short is an error, not an end', () => {
    const parser = new NormalFeedParser();
    parser.push(RECORDED.subarray(0, Math.floor(RECORDED.length / 2)));
    assert.throws(() => parser.end(), /ended before it was complete/);
    const cutAfterResults = new NormalFeedParser();
    cutAfterResults.push(Buffer.from('{"results":[],"last_seq":"9-ab'));
    assert.throws(() => cutAfterResults.end());
  });

  it('accepts last_seq before results and an empty page', () => {
    const { rows, end } = parseIn(Buffer.from('{"last_seq":"7-x","pending":0,"results":[\n]}'), () => 5);
    assert.equal(rows.length, 0);
    assert.equal(end.lastSeq, '7-x');
    assert.equal(end.pending, 0);
  });
});

describe('ContinuousFeedParser', () => {
  it('splits lines across chunks, reports heartbeats and the final last_seq', () => {
    const text =
      '{"seq":"1-a","id":"x","changes":[{"rev":"1-r"}],"doc":{"_id":"x","s":"line\\nbreak"}}\n\n{"seq":"2-b","id":"y","changes":[{"rev":"1-q"}],"deleted":true}\n{"last_seq":"2-b","pending":0}\n';
    const buf = Buffer.from(text);
    for (const size of [1, 3, 10, buf.length]) {
      const parser = new ContinuousFeedParser();
      const items = [];
      for (let o = 0; o < buf.length; o += size) items.push(...parser.push(buf.subarray(o, o + size)));
      assert.deepEqual(
        items.map((i) =>
          i.kind === 'row'
            ? `row:${i.row.id}:${i.row.seq}:${i.row.deleted}`
            : i.kind === 'end'
              ? `end:${i.lastSeq}`
              : 'heartbeat',
        ),
        ['row:x:1-a:false', 'heartbeat', 'row:y:2-b:true', 'end:2-b'],
        `chunks of ${size}`,
      );
    }
  });
});
