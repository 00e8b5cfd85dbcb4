/**
 * From feed rows to write batches, cut by count and by bytes.
 *
 * Catch-up pages the normal feed: one request per page (`limit` = `seq_interval` = the batch
 * size). A page bigger than maxBatchBytes is cut into several batches while it streams in;
 * only the last one carries the page's `last_seq`, earlier ones carry the last non-null row
 * seq seen (or none: then the rows are written but the position does not move — replaying
 * them later is harmless). The next page asks for fewer rows when pages run over the byte
 * budget, and grows back when they fit.
 *
 * Live follows the continuous feed and flushes on count, bytes, or a short quiet spell. It is
 * stopped by aborting `signal` (then leaving the loop): the pending read only ends with the socket.
 */
import type { ChangeRow, ChangesSource } from './ports';

export interface Batch {
  rows: ChangeRow[];
  bytes: number;
  /** Where to resume after this batch, or null: do not move the checkpoint. */
  seq: string | null;
  pending: number | null;
  /** The feed's end was reached with this batch (catch-up only). */
  isEnd: boolean;
  /** Save `seq` even if the batch is empty (the tail of a page cut by bytes). */
  forceCheckpoint: boolean;
}

export interface BatchLimits {
  batchSize: number;
  maxBatchBytes: number;
  /** Applied to each row as it arrives (the runner serialises and sanitises it there). */
  compact?: (row: ChangeRow) => ChangeRow;
}

export async function* catchUpBatches(
  source: ChangesSource,
  since: string | null,
  limits: BatchLimits,
  signal: AbortSignal,
  onOpen?: () => void,
): AsyncGenerator<Batch> {
  let cursor = since;
  let limit = limits.batchSize;
  for (;;) {
    let rows: ChangeRow[] = [];
    let bytes = 0;
    let lastRowSeq: string | null = null;
    let pageRows = 0;
    let pageBytes = 0;
    let isSplit = false;
    let end: { lastSeq: string; pending: number | null } | null = null;
    for await (const item of source.page({ since: cursor, limit, signal, onOpen })) {
      if (item.kind === 'end') {
        end = item;
        continue;
      }
      rows.push(limits.compact ? limits.compact(item.row) : item.row);
      bytes += item.row.bytes;
      pageRows++;
      pageBytes += item.row.bytes;
      if (item.row.seq !== null) lastRowSeq = item.row.seq;
      if (bytes >= limits.maxBatchBytes) {
        isSplit = true;
        yield { rows, bytes, seq: lastRowSeq, pending: null, isEnd: false, forceCheckpoint: false };
        rows = [];
        bytes = 0;
      }
    }
    if (!end) throw new SyntaxError('the _changes response had no end');
    // The end: an empty page, or the server saying nothing is pending. (A short page is not
    // proof — pouchdb-server never sends `pending` — so one more, empty, request confirms it.)
    const isEnd = pageRows === 0 || end.pending === 0;
    yield { rows, bytes, seq: end.lastSeq, pending: isEnd ? 0 : end.pending, isEnd, forceCheckpoint: isSplit };
    if (isEnd) return;
    cursor = end.lastSeq;
    if (isSplit) limit = Math.max(1, Math.floor((pageRows * limits.maxBatchBytes) / pageBytes / 2));
    else if (pageRows >= limit && limit < limits.batchSize) limit = Math.min(limits.batchSize, limit * 2);
  }
}

const QUIET = Symbol('quiet');

export async function* liveBatches(
  source: ChangesSource,
  since: string | null,
  limits: BatchLimits & { quietMs: number; heartbeatMs: number },
  signal: AbortSignal,
  onOpen?: () => void,
): AsyncGenerator<Batch> {
  const iterator = source.follow({ since, signal, heartbeatMs: limits.heartbeatMs, onOpen })[Symbol.asyncIterator]();
  let rows: ChangeRow[] = [];
  let bytes = 0;
  let lastSeq: string | null = null;
  const flush = (pending: number | null): Batch => {
    const batch: Batch = { rows, bytes, seq: lastSeq, pending, isEnd: false, forceCheckpoint: false };
    rows = [];
    bytes = 0;
    return batch;
  };
  let next = iterator.next();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const result =
        rows.length === 0
          ? await next
          : await Promise.race([next, new Promise<typeof QUIET>((resolve) => (timer = setTimeout(() => resolve(QUIET), limits.quietMs)))]);
      clearTimeout(timer);
      if (result === QUIET) {
        yield flush(0);
        continue;
      }
      if (result.done) break;
      next = iterator.next();
      const item = result.value;
      if (item.kind === 'heartbeat') {
        if (rows.length) yield flush(0);
        continue;
      }
      if (item.kind === 'end') break;
      rows.push(limits.compact ? limits.compact(item.row) : item.row);
      bytes += item.row.bytes;
      if (item.row.seq !== null) lastSeq = item.row.seq;
      if (rows.length >= limits.batchSize || bytes >= limits.maxBatchBytes) yield flush(null);
    }
    if (rows.length) yield flush(null);
  } finally {
    next.catch(() => undefined);
    await iterator.return?.();
  }
}
