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

export function toChangeRow(raw: WireRow, bytes: number): ChangeRow {
  if (typeof raw.id !== 'string') throw new SyntaxError('a changes row has no string "id"');
  const changes = Array.isArray(raw.changes) ? (raw.changes as { rev?: unknown }[]) : [];
  const rev = changes[0] && typeof changes[0].rev === 'string' ? changes[0].rev : null;
  const doc = raw.doc && typeof raw.doc === 'object' && !Array.isArray(raw.doc) ? (raw.doc as Record<string, unknown>) : null;
  return { id: raw.id, seq: seqToString(raw.seq), deleted: raw.deleted === true, doc, rev, bytes };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class NormalFeedParser {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private inResults = false;
  private envelope: Buffer[] = [];
  private rowParts: Buffer[] = [];
  private isInRow = false;
  private isResultsDone = false;
  /** Bytes consumed so far. */
  bytes = 0;

  /** Feed a chunk; returns the rows completed by it. */
  push(chunk: Buffer): ChangeRow[] {
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
      } else if (b === 0x7b || b === 0x5b) {
        // { or [
        if (this.inResults && this.depth === 2) {
          if (b === 0x7b) {
            this.isInRow = true;
            segStart = i;
            this.rowParts = [];
          }
        } else if (!this.inResults && !this.isResultsDone && this.depth === 1 && b === 0x5b) {
          this.envelope.push(chunk.subarray(segStart, i + 1));
          if (/"results"\s*:\s*\[$/.test(Buffer.concat(this.envelope).toString('utf8').slice(-64))) {
            this.inResults = true;
          }
          segStart = i + 1;
        }
        this.depth++;
      } else if (b === 0x7d || b === 0x5d) {
        this.depth--;
        if (this.inResults) {
          if (this.isInRow && this.depth === 2) {
            this.rowParts.push(chunk.subarray(segStart, i + 1));
            const text = Buffer.concat(this.rowParts);
            this.rowParts = [];
            this.isInRow = false;
            rows.push(toChangeRow(JSON.parse(text.toString('utf8')) as WireRow, text.length));
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

  /** After the last chunk: the feed's end, or a SyntaxError when the body was cut short. */
  end(): { lastSeq: string; pending: number | null } {
    if (!this.isResultsDone || this.depth !== 0 || this.inString) {
      throw new SyntaxError('the _changes response ended before it was complete');
    }
    const text = Buffer.concat(this.envelope).toString('utf8');
    const parsed = JSON.parse(text) as { last_seq?: unknown; pending?: unknown };
    const lastSeq = seqToString(parsed.last_seq);
    if (lastSeq === null) throw new SyntaxError('the _changes response has no last_seq');
    const pending = typeof parsed.pending === 'number' && Number.isFinite(parsed.pending) ? Math.max(0, Math.trunc(parsed.pending)) : null;
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
