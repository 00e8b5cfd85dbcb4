/**
 * One database's sync: read the resume seq from PostgreSQL, catch up page by page (the next
 * batch is read while the current one is written), then — when following — stay on the
 * continuous feed. Failures go through the state machine: retried with bounded backoff, or
 * reported. Never throws: the outcome is a DatabaseRunResult.
 */
import type { DatabaseRunResult, RunOutcome, SkippedDoc, SyncState } from '../contract/dto';
import type { WireError } from '../contract/errors';
import { EngineError } from '../core/engine-error';
import { sleep } from '../core/sleep';
import { catchUpBatches, liveBatches, type Batch } from './batcher';
import type { ChangeRow, ChangesSource, RawSink, SinkBatch } from './ports';
import { compactRow } from './sanitise';
import { ProgressTracker } from './progress';
import { FOLLOW_POLICY, ONCE_POLICY, initialState, transition, type SyncMachineEvent } from './state-machine';
import type { SyncEvent, SyncOptions } from './types';

export interface DatabaseRunContext {
  options: SyncOptions;
  database: string;
  source: string;
  precedence: readonly string[];
  mode: 'once' | 'follow';
  changes: ChangesSource;
  sink: RawSink;
  /** Aborts on the user's signal or the deadline. */
  stop: AbortSignal;
  /** The source's error translator (SyncAdapters.sourceError). */
  sourceError: (error: unknown, database: string) => EngineError;
  isDeadline: () => boolean;
}

/** A database's result when its sync never got going: nothing written, the error and its outcome. */
export function failedDatabaseResult(database: string, source: string, error: WireError): DatabaseRunResult {
  return {
    database,
    source,
    outcome: outcomeForError(error),
    docs: 0,
    deletes: 0,
    skipped: [],
    bytes: 0,
    seconds: 0,
    seqBefore: null,
    seqAfter: null,
    reachedEnd: false,
    error,
  };
}

/** How a run that ended on this error is reported: offline (down), timeout (slow), refused (credentials). */
export function outcomeForError(error: WireError): RunOutcome {
  switch (error.code) {
    case 'COUCH_UNREACHABLE':
      return 'offline';
    case 'COUCH_TIMEOUT':
      return 'timeout';
    case 'COUCH_AUTH':
    case 'COUCH_FORBIDDEN':
      return 'refused';
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'failed';
  }
}

/** Drive a batch generator with one batch of read-ahead: batch N+1 is read while batch N is written. */
async function pump(
  make: (signal: AbortSignal) => AsyncGenerator<Batch>,
  write: (b: Batch) => Promise<void>,
  stop: AbortSignal,
): Promise<void> {
  const reading = new AbortController();
  const onStop = (): void => reading.abort(stop.reason);
  stop.addEventListener('abort', onStop, { once: true });
  const gen = make(reading.signal);
  let next = gen.next();
  try {
    for (;;) {
      const result = await next;
      if (result.done || stop.aborted) return; // on stop, the read-ahead batch is abandoned, never half-written
      next = gen.next();
      next.catch(() => undefined);
      await write(result.value);
    }
  } finally {
    stop.removeEventListener('abort', onStop);
    reading.abort(new Error('stream closed'));
    await next.catch(() => undefined);
    await gen.return(undefined).catch(() => undefined);
  }
}

export async function runDatabase(ctx: DatabaseRunContext): Promise<DatabaseRunResult> {
  const { options, database, source, changes, sink, stop } = ctx;
  const logger = options.logger.child({ database });
  const policy = options.retryPolicy ?? (ctx.mode === 'once' ? ONCE_POLICY : FOLLOW_POLICY);
  const emit = (event: SyncEvent): void => {
    try {
      options.onEvent?.(event);
    } catch (error) {
      logger.warn('an onEvent listener threw', { error: error instanceof Error ? error.message : String(error) });
    }
  };
  let state: SyncState = initialState(new Date());
  const dispatch = (event: SyncMachineEvent): void => {
    const nextState = transition(state, event, new Date(), policy);
    if (nextState !== state) {
      state = nextState;
      emit({ type: 'state', database, source, state });
    }
  };

  const started = Date.now();
  const tracker = new ProgressTracker(started);
  let lastBatchAt = started;
  const skipped: SkippedDoc[] = [];
  let seqBefore: string | null = null;
  let seqAfter: string | null = null;
  let hasProgressRow = false;
  /** The pending figure couchdb_progress holds, so the end of the feed can set it to 0 once. */
  let storedPending: number | null = null;
  let isFirstAttempt = true;
  let reachedEnd = false;
  let lastError: WireError | undefined;

  /** The response being read now: bytes on the wire and rows parsed, not yet handed to the writer. */
  const receiving = { bytes: 0, rows: 0 };
  let lastProgressAt = 0;
  const emitProgress = (): void => {
    lastProgressAt = Date.now();
    const link = changes.link?.();
    emit({
      type: 'progress',
      database,
      source,
      docs: tracker.docs,
      deletes: tracker.deletes,
      bytes: tracker.bytes,
      pending: tracker.pending,
      isPendingEstimate: tracker.isEstimate,
      docsPerSecond: tracker.docsPerSecond(),
      etaSeconds: tracker.etaSeconds(link?.bytesPerSecond ?? null, link?.wireBytesPerRow ?? null),
      receivingBytes: receiving.bytes,
      receivingRows: receiving.rows,
      ...(link
        ? { wireBytes: link.wireBytes, linkBytesPerSecond: link.bytesPerSecond, linkLatencyMs: link.latencyMs }
        : {}),
    });
  };
  /** Progress within a batch, at most 4 times a second. */
  const onReceive = (bytes: number, rows: number): void => {
    receiving.bytes = bytes;
    receiving.rows = rows;
    if (bytes > 0 && Date.now() - lastProgressAt >= 250) emitProgress();
  };

  const write = async (batch: Batch): Promise<void> => {
    const t0 = Date.now();
    // An empty batch writes nothing, except: the first sight of a database, the tail of a page
    // cut by bytes, and the end of the feed when couchdb_progress does not say pending = 0 yet.
    const forceProgress =
      batch.seq !== null && (batch.forceCheckpoint || !hasProgressRow || (batch.isEnd && storedPending !== 0));
    const sinkBatch: SinkBatch = {
      source,
      precedence: ctx.precedence,
      rows: batch.rows,
      seq: batch.seq,
      pending: batch.pending,
      isUsersDb: database === '_users',
      forceProgress,
    };
    const isWrite = batch.rows.length > 0 || forceProgress;
    const result = isWrite ? await sink.writeBatch(sinkBatch) : { docs: 0, deletes: 0, bytes: 0, skipped: [] };
    if (isWrite) dispatch({ type: 'progressed' });
    if (batch.seq !== null && (batch.rows.length > 0 || forceProgress)) {
      seqAfter = batch.seq;
      hasProgressRow = true;
      storedPending = batch.pending;
      try {
        options.checkpoints.set(source, batch.seq, batch.pending);
      } catch (error) {
        // PostgreSQL holds the real position; the store copy is for display only.
        logger.warn('could not save the checkpoint copy in the app store', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    skipped.push(...result.skipped);
    for (const s of result.skipped) logger.warn('document skipped', { id: s.id, reason: s.reason });
    const seconds = (Date.now() - t0) / 1000;
    // The rate is measured batch end to batch end, so it includes waiting for the feed.
    const now = Date.now();
    tracker.record({
      rows: batch.rows.length,
      docs: result.docs,
      deletes: result.deletes,
      bytes: result.bytes,
      seconds: Math.max((now - lastBatchAt) / 1000, 0.001),
      feedPending: batch.pending,
    });
    lastBatchAt = now;
    if (batch.isEnd) {
      reachedEnd = true;
      lastError = undefined; // recovered: an earlier, retried failure is no longer this database's story
      tracker.reachedEnd();
      dispatch({ type: 'caught-up' });
    }
    if (isWrite) {
      emit({
        type: 'batch',
        database,
        source,
        docs: result.docs,
        deletes: result.deletes,
        skipped: result.skipped.length,
        bytes: result.bytes,
        seconds,
        seq: batch.seq,
      });
    }
    if (batch.rows.length || batch.isEnd) emitProgress();
  };

  const isUsersDb = database === '_users';
  const limits = {
    batchSize: Math.max(1, options.batchSize),
    maxBatchBytes: Math.max(1, options.maxBatchBytes),
    compact: (row: ChangeRow) => compactRow(row, isUsersDb),
  };
  dispatch({ type: 'start' });
  try {
    while (!stop.aborted) {
      try {
        const progress = await sink.readProgress(source);
        if (isFirstAttempt) {
          seqBefore = progress?.seq ?? null;
          seqAfter = seqBefore;
          hasProgressRow = progress !== null;
          storedPending = progress?.pending ?? null;
          isFirstAttempt = false;
          if (seqBefore === null) {
            // pouchdb-server sends no `pending`: estimate from the doc counts for a sync from the start.
            changes.info(stop).then(
              (info) => tracker.setEstimateBase(info.docCount + info.deletedCount),
              () => undefined,
            );
          }
        }
        const since = progress?.seq ?? null;
        await pump(
          (signal) =>
            catchUpBatches(changes, since, limits, signal, {
              onOpen: () => dispatch({ type: 'connected' }),
              onReceive,
            }),
          write,
          stop,
        );
        if (ctx.mode === 'once' || stop.aborted) break;
        const heartbeatMs = options.heartbeatMs ?? 10_000;
        await pump(
          (signal) =>
            liveBatches(changes, seqAfter, { ...limits, quietMs: options.quietMs ?? 200, heartbeatMs }, signal),
          write,
          stop,
        );
      } catch (error) {
        if (stop.aborted) break;
        const engineError = error instanceof EngineError ? error : ctx.sourceError(error, database);
        const wire = engineError.toWire();
        dispatch({ type: 'failed', error: wire });
        if (state.kind === 'error') {
          lastError = wire;
          logger.error('sync of the database stopped', { code: wire.code, message: wire.message });
          break;
        }
        lastError = wire;
        logger.warn('sync of the database failed; retrying', {
          code: wire.code,
          message: wire.message,
          attempt: state.attempt,
          retryAt: state.retryAt,
        });
        const wait = state.retryAt ? Date.parse(state.retryAt) - Date.now() : 1000;
        await sleep(Math.max(0, wait), stop);
        if (stop.aborted) break;
        dispatch({ type: 'retry' });
        continue;
      }
      lastError = undefined;
    }
  } catch (error) {
    // Defensive: runDatabase never throws.
    lastError =
      error instanceof EngineError
        ? error.toWire()
        : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), retryable: false };
  }

  let outcome: RunOutcome;
  if (state.kind === 'error' && lastError) outcome = outcomeForError(lastError);
  else if (reachedEnd && (ctx.mode === 'follow' ? state.kind === 'live' || !lastError : true)) outcome = 'done';
  else if (ctx.isDeadline()) {
    outcome = 'timeout';
    lastError ??= {
      code: 'COUCH_TIMEOUT',
      message: `CouchDB database "${database}" did not reach the end of its changes feed within ${options.timeoutSeconds ?? 0} s; the next run continues from where this one stopped.`,
      retryable: true,
    };
  } else if (lastError) outcome = outcomeForError(lastError);
  else outcome = 'cancelled';
  dispatch({ type: 'stop' });

  const result: DatabaseRunResult = {
    database,
    source,
    outcome,
    docs: tracker.docs,
    deletes: tracker.deletes,
    skipped,
    bytes: tracker.bytes,
    seconds: (Date.now() - started) / 1000,
    seqBefore,
    seqAfter,
    reachedEnd,
  };
  if (lastError && outcome !== 'done') result.error = lastError;
  return result;
}
