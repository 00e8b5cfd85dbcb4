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
import { EngineError } from '../core/engine-error';
import type { ChangeRow, ChangesSource, LinkEstimate } from './ports';

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
  /**
   * How long one page request may take on a slow link (default 5 s, or 15 × the link's latency
   * when that is longer, so latency costs under 7 %): documents per request are chosen from the
   * measured rate so a cut loses little. A fast link is never held below batchSize.
   */
  targetRequestSeconds?: number;
  /** Applied to each row as it arrives (the runner serialises and sanitises it there). */
  compact?: (row: ChangeRow) => ChangeRow;
}

/** The first request on a link not measured yet asks for this many rows at most. */
const FIRST_LINK_LIMIT = 200;
const MIN_LINK_LIMIT = 20;

/** Documents per request so one takes about the target time on this link; null when not measured. */
export function limitForLink(link: LinkEstimate, batchSize: number, targetSeconds = 5): number | null {
  if (link.bytesPerSecond === null || link.wireBytesPerRow === null || link.wireBytesPerRow <= 0) return null;
  const latencySeconds = (link.latencyMs ?? 0) / 1000;
  const seconds = Math.max(targetSeconds, 15 * latencySeconds);
  const rowsPerSecond = link.bytesPerSecond / link.wireBytesPerRow;
  return Math.max(Math.min(MIN_LINK_LIMIT, batchSize), Math.min(batchSize, Math.floor(rowsPerSecond * seconds)));
}

export interface CatchUpHooks {
  onOpen?: () => void;
  /** As a response streams in: its bytes on the wire so far and its rows parsed so far. */
  onReceive?: (wireBytes: number, rows: number) => void;
}

export async function* catchUpBatches(
  source: ChangesSource,
  since: string | null,
  limits: BatchLimits,
  signal: AbortSignal,
  hooks: CatchUpHooks | (() => void) = {},
): AsyncGenerator<Batch> {
  const { onOpen, onReceive } = typeof hooks === 'function' ? { onOpen: hooks, onReceive: undefined } : hooks;
  let cursor = since;
  /** What the byte budget allows (shrinks when pages run over it, grows back when they fit). */
  let byteLimit = limits.batchSize;
  const linkLimit = (): number | null =>
    source.link ? limitForLink(source.link(), limits.batchSize, limits.targetRequestSeconds) : null;
  let limit = source.link ? (linkLimit() ?? Math.min(limits.batchSize, FIRST_LINK_LIMIT)) : limits.batchSize;
  for (;;) {
    let rows: ChangeRow[] = [];
    let bytes = 0;
    let lastRowSeq: string | null = null;
    let pageRows = 0;
    let pageBytes = 0;
    let isSplit = false;
    let end: { lastSeq: string; pending: number | null } | null = null;
    const onBytes = onReceive ? (n: number): void => onReceive(n, pageRows) : undefined;
    for await (const item of source.page({
      since: cursor,
      limit,
      signal,
      ...(onOpen ? { onOpen } : {}),
      ...(onBytes ? { onBytes } : {}),
    })) {
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
    if (pageRows > 0 && cursor !== null && end.lastSeq === cursor) {
      // Rows after `since` end at `since` again: the server ignores the position (seen: the same
      // page 2,125 times a minute, "2,124,000 documents written"). Writing it again helps nobody.
      throw new EngineError(
        'COUCH_PROTOCOL',
        `CouchDB database "${source.database}" answered the same page again for the position it was asked to continue from (since=${cursor.length > 40 ? `${cursor.slice(0, 40)}…` : cursor}): it ignores that position, so the sync would copy the same ${pageRows} documents forever. Stopped. Fix: check that the URL points at CouchDB itself — a proxy or cache in front of it may drop or ignore the query string.`,
        { details: { database: source.database, since: cursor } },
      );
    }
    // The end: an empty page, or the server saying nothing is pending. (A short page is not
    // proof — pouchdb-server never sends `pending` — so one more, empty, request confirms it.)
    const isEnd = pageRows === 0 || end.pending === 0;
    yield { rows, bytes, seq: end.lastSeq, pending: isEnd ? 0 : end.pending, isEnd, forceCheckpoint: isSplit };
    // the page's rows are the writer's now
    onReceive?.(0, 0);
    if (isEnd) return;
    cursor = end.lastSeq;
    if (isSplit) byteLimit = Math.max(1, Math.floor((pageRows * limits.maxBatchBytes) / pageBytes / 2));
    else if (pageRows >= byteLimit && byteLimit < limits.batchSize)
      byteLimit = Math.min(limits.batchSize, byteLimit * 2);
    const forLink = linkLimit();
    if (forLink !== null) limit = Math.min(byteLimit, forLink);
    else if (source.link)
      limit = Math.min(byteLimit, pageRows >= limit ? Math.min(limits.batchSize, limit * 2) : limit);
    else limit = byteLimit;
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
          : await Promise.race([
              next,
              new Promise<typeof QUIET>((resolve) => (timer = setTimeout(() => resolve(QUIET), limits.quietMs))),
            ]);
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
