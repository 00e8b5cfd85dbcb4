/**
 * Streaming parsers for CouchDB `_changes` responses, so a 1000-doc page is never held as one
 * string: rows are cut out of the byte stream as soon as they are complete and parsed one by one.
 *
 * Normal feed: `{"results":[ROW,ROW,…],"last_seq":…,"pending":…}` — on one line (pouchdb-server)
 * or one row per line (CouchDB); we track JSON depth and strings, so the layout does not matter.
 * Everything outside the results array (the "envelope") is kept and parsed at the end.
 * Continuous feed: one JSON object per line, empty lines are heartbeats, `{"last_seq":…}` ends it.
 */
import type { ChangeRow } from '../sync/ports';

interface WireRow {
  seq?: unknown;
  id?: unknown;
  deleted?: unknown;
  doc?: unknown;
  changes?: unknown;
  last_seq?: unknown;
}

/** An opaque seq as a string: CouchDB sends strings, PouchDB integers. Never parsed further. */
export function seqToString(seq: unknown): string | null {
  if (seq === null || seq === undefined) return null;
  if (typeof seq === 'string') return seq;
  if (typeof seq === 'number') return String(seq);
  return JSON.stringify(seq);
}

/** What the parser found of the numbers in a doc it cut out: all written as JavaScript writes them, one is not, or a token it could not see whole. */
type DocNumbers = 'as-written' | 'rewritten' | 'unknown';

export function toChangeRow(raw: WireRow, bytes: number, docText?: string, numbers?: DocNumbers): ChangeRow {
  if (typeof raw.id !== 'string') throw new SyntaxError('a changes row has no string "id"');
  const changes = Array.isArray(raw.changes) ? (raw.changes as { rev?: unknown }[]) : [];
  const rev = changes[0] && typeof changes[0].rev === 'string' ? changes[0].rev : null;
  const row: ChangeRow = {
    id: raw.id,
    seq: seqToString(raw.seq),
    deleted: raw.deleted === true,
    doc: null,
    rev,
    bytes,
  };
  if (docText !== undefined) {
    row.docText = docText;
    if (numbers === 'as-written' || numbers === 'rewritten') row.docNumbersAsWritten = numbers === 'as-written';
  } else if (raw.doc && typeof raw.doc === 'object' && !Array.isArray(raw.doc))
    row.doc = raw.doc as Record<string, unknown>;
  return row;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/** Whether the string starting at `i` is the key `"doc"` (followed by `:`), all within this chunk. */
function isDocKey(chunk: Buffer, i: number): boolean {
  if (chunk[i + 1] !== 0x64 || chunk[i + 2] !== 0x6f || chunk[i + 3] !== 0x63 || chunk[i + 4] !== QUOTE) return false;
  for (let j = i + 5; j < chunk.length; j++) {
    const b = chunk[j];
    if (b === COLON) return true;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  return false;
}

/**
 * Rows are parsed without their doc: the parser notes where the row's `"doc": {…}` value starts
 * and ends while it tracks depth, parses the rest of the row (seq, id, changes, deleted) and hands
 * the doc on as its JSON text (ChangeRow.docText), which is most often stored as it came
 * (sync/sanitise.ts decides). When the span cannot be cut cleanly (a key split across chunks),
 * the whole row is parsed as before.
 */
export class NormalFeedParser {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private inResults = false;
  private envelope: Buffer[] = [];
  private rowParts: Buffer[] = [];
  private isInRow = false;
  private isResultsDone = false;
  /** Absolute byte positions (in the whole response) of the current row and of its doc value. */
  private rowStart = 0;
  private docStart = -1;
  private docEnd = -1;
  private isAfterDocKey = false;
  private docNumbers: DocNumbers = 'as-written';
  /** Bytes consumed so far. */
  bytes = 0;

  /** Feed a chunk; returns the rows completed by it. */
  push(chunk: Buffer): ChangeRow[] {
    const base = this.bytes;
    this.bytes += chunk.length;
    const rows: ChangeRow[] = [];
    let segStart = 0; // start of the current envelope or row segment within this chunk
    let nextBackslash = -2;
    let i = 0;
    const len = chunk.length;
    while (i < len) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        if (nextBackslash < i && nextBackslash !== -1) nextBackslash = chunk.indexOf(BACKSLASH, i);
        const quote = chunk.indexOf(QUOTE, i);
        const q = quote === -1 ? len : quote;
        if (nextBackslash !== -1 && nextBackslash < q) {
          i = nextBackslash + 1;
          this.escaped = true;
          continue;
        }
        if (quote === -1) {
          i = len;
          break;
        }
        this.inString = false;
        i = quote + 1;
        continue;
      }
      const b = chunk[i] as number;
      if (b === QUOTE) {
        this.inString = true;
        if (this.isInRow && this.depth === 3) this.isAfterDocKey = isDocKey(chunk, i);
      } else if (b === 0x7b || b === 0x5b) {
        // { or [
        if (this.inResults && this.depth === 2) {
          if (b === 0x7b) {
            this.isInRow = true;
            segStart = i;
            this.rowParts = [];
            this.rowStart = base + i;
            this.docStart = -1;
            this.docEnd = -1;
            this.isAfterDocKey = false;
          }
        } else if (this.isInRow && this.depth === 3) {
          if (b === 0x7b && this.isAfterDocKey) {
            this.docStart = base + i;
            this.docEnd = -1;
            this.docNumbers = 'as-written';
          }
          this.isAfterDocKey = false;
        } else if (!this.inResults && !this.isResultsDone && this.depth === 1 && b === 0x5b) {
          this.envelope.push(chunk.subarray(segStart, i + 1));
          if (/"results"\s*:\s*\[$/.test(Buffer.concat(this.envelope).toString('utf8').slice(-64))) {
            this.inResults = true;
          }
          segStart = i + 1;
        }
        this.depth++;
      } else if ((b === 0x2d || (b >= 0x30 && b <= 0x39)) && this.docStart >= 0 && this.docEnd < 0) {
        // a number token of the doc (outside strings, only numbers hold '-' and digits)
        i = this.checkNumber(chunk, i);
        continue;
      } else if (b === 0x7d || b === 0x5d) {
        this.depth--;
        if (this.inResults) {
          if (this.isInRow && this.depth === 3) {
            if (this.docStart >= 0 && this.docEnd < 0) this.docEnd = base + i + 1;
          } else if (this.isInRow && this.depth === 2) {
            this.rowParts.push(chunk.subarray(segStart, i + 1));
            rows.push(
              this.rowFrom(this.rowParts.length === 1 ? (this.rowParts[0] as Buffer) : Buffer.concat(this.rowParts)),
            );
            this.rowParts = [];
            this.isInRow = false;
            segStart = i + 1;
          } else if (this.depth === 1) {
            // end of the results array: resume the envelope with the closing bracket
            this.inResults = false;
            this.isResultsDone = true;
            segStart = i;
          }
        }
      }
      i++;
    }
    if (this.inResults) {
      if (this.isInRow) this.rowParts.push(chunk.subarray(segStart));
    } else if (segStart < len) {
      this.envelope.push(chunk.subarray(segStart));
    }
    return rows;
  }

  /**
   * Reads the number token at `i` and notes whether jsonb would store it differently from
   * JavaScript's rewrite of it (see storableAsReceived in sync/sanitise.ts). A fraction ending
   * in 0 always is (`12.0` vs `12`) and so is `-0`; any other token of at most 15 digits is not
   * (a double keeps 15 significant digits, so JavaScript writes the same digits, at most in
   * exponent form, which jsonb reads to the same numeric); longer or exponent tokens are
   * compared with their rewrite. Returns the index after the token.
   */
  private checkNumber(chunk: Buffer, i: number): number {
    let j = i + 1;
    let hasDot = false;
    let hasExponent = false;
    for (; j < chunk.length; j++) {
      const c = chunk[j] as number;
      if (c >= 0x30 && c <= 0x39) continue;
      if (c === 0x2e) hasDot = true;
      else if (c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) hasExponent = true;
      else break;
    }
    if (this.docNumbers === 'rewritten') return j;
    if (j === chunk.length) {
      this.docNumbers = 'unknown'; // the token may go on in the next chunk
      return j;
    }
    const isNegative = chunk[i] === 0x2d;
    if (!hasExponent) {
      if (hasDot ? chunk[j - 1] === 0x30 : j - i === 2 && isNegative && chunk[i + 1] === 0x30) {
        this.docNumbers = 'rewritten';
        return j;
      }
      if (j - i - (hasDot ? 1 : 0) - (isNegative ? 1 : 0) <= 15) return j;
    }
    const token = chunk.toString('latin1', i, j);
    if (String(Number(token)) !== token) this.docNumbers = 'rewritten';
    return j;
  }

  private rowFrom(text: Buffer): ChangeRow {
    if (this.docStart < 0 || this.docEnd < 0)
      return toChangeRow(JSON.parse(text.toString('utf8')) as WireRow, text.length);
    const s = this.docStart - this.rowStart;
    const e = this.docEnd - this.rowStart;
    const rest = `${text.toString('utf8', 0, s)}null${text.toString('utf8', e)}`;
    return toChangeRow(JSON.parse(rest) as WireRow, text.length, text.toString('utf8', s, e), this.docNumbers);
  }

  /** After the last chunk: the feed's end, or a SyntaxError when the body was cut short. */
  end(): { lastSeq: string; pending: number | null } {
    if (!this.isResultsDone || this.depth !== 0 || this.inString) {
      throw new SyntaxError('the _changes response ended before it was complete');
    }
    const text = Buffer.concat(this.envelope).toString('utf8');
    const parsed = JSON.parse(text) as { last_seq?: unknown; pending?: unknown };
    const lastSeq = seqToString(parsed.last_seq);
    if (lastSeq === null) throw new SyntaxError('the _changes response has no last_seq');
    const pending =
      typeof parsed.pending === 'number' && Number.isFinite(parsed.pending)
        ? Math.max(0, Math.trunc(parsed.pending))
        : null;
    return { lastSeq, pending };
  }
}

export type ContinuousItem = { kind: 'row'; row: ChangeRow } | { kind: 'heartbeat' } | { kind: 'end'; lastSeq: string };

export class ContinuousFeedParser {
  private parts: Buffer[] = [];

  push(chunk: Buffer): ContinuousItem[] {
    const items: ContinuousItem[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      this.parts.push(chunk.subarray(start, nl));
      const line = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
      this.parts = [];
      start = nl + 1;
      const text = line.toString('utf8').trim();
      if (text === '') {
        items.push({ kind: 'heartbeat' });
        continue;
      }
      const raw = JSON.parse(text) as WireRow;
      if (raw.id === undefined && raw.last_seq !== undefined) {
        items.push({ kind: 'end', lastSeq: seqToString(raw.last_seq) ?? '' });
        continue;
      }
      items.push({ kind: 'row', row: toChangeRow(raw, line.length + 1) });
    }
    if (start < chunk.length) this.parts.push(chunk.subarray(start));
    return items;
  }
}
