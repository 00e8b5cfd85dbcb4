import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import yauzl from 'yauzl';
import { columnName, crc32, writeXlsx } from '../../../app/engine/data/xlsx';

/** Every file of a zip, inflated and CRC-checked by yauzl (the zip reader the project already uses). */
function unzip(buffer: Buffer): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error('no zip'));
      const out: Record<string, string> = {};
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out[entry.fileName] = Buffer.concat(chunks).toString('utf8');
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('xlsx export (issue 11 #14): typed cells, no formula guard needed', () => {
  it('writes a valid zip with the SpreadsheetML parts', async () => {
    const files = await unzip(writeXlsx(['a'], [['x']]));
    assert.deepEqual(Object.keys(files).sort(), [
      '[Content_Types].xml',
      '_rels/.rels',
      'xl/_rels/workbook.xml.rels',
      'xl/styles.xml',
      'xl/workbook.xml',
      'xl/worksheets/sheet1.xml',
    ]);
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  });

  it('text is text (a +phone keeps its +, no apostrophe, never a formula), numbers, booleans and dates are typed', async () => {
    const when = new Date('2026-07-01T10:30:00.000Z');
    const day = new Date('2026-07-01T00:00:00.000Z');
    const files = await unzip(
      writeXlsx(
        ['phone', 'count', 'ok', 'reported', 'day', 'formula', 'empty'],
        [['+254712345678', 42.5, true, when, day, '=HYPERLINK("http://evil")', null]],
      ),
    );
    const sheet = files['xl/worksheets/sheet1.xml']!;
    assert.match(sheet, /<c r="A2" t="inlineStr"><is><t xml:space="preserve">\+254712345678<\/t><\/is><\/c>/);
    assert.doesNotMatch(sheet, /'\+254/);
    assert.match(sheet, /<c r="B2"><v>42\.5<\/v><\/c>/);
    assert.match(sheet, /<c r="C2" t="b"><v>1<\/v><\/c>/);
    // 2026-07-01 is Excel day 46204; 10:30 is 0.4375 of a day. Style 2: date and time, style 1: a date.
    assert.match(sheet, /<c r="D2" s="2"><v>46204\.4375<\/v><\/c>/);
    assert.match(sheet, /<c r="E2" s="1"><v>46204<\/v><\/c>/);
    assert.match(
      sheet,
      /<c r="F2" t="inlineStr"><is><t xml:space="preserve">=HYPERLINK\(&quot;http:\/\/evil&quot;\)<\/t>/,
    );
    assert.doesNotMatch(sheet, /<f>/);
    assert.doesNotMatch(sheet, /r="G2"/);
    assert.match(files['xl/styles.xml']!, /formatCode="yyyy\\-mm\\-dd"/);
  });

  it('column names past Z, XML escaping and characters XML cannot hold', async () => {
    assert.deepEqual([0, 25, 26, 701, 702].map(columnName), ['A', 'Z', 'AA', 'ZZ', 'AAA']);
    const files = await unzip(writeXlsx(['t'], [['a<b & "c"\u0001\u0007 é']]));
    assert.match(files['xl/worksheets/sheet1.xml']!, /a&lt;b &amp; &quot;c&quot; é/);
  });
});
