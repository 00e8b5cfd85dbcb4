import type pg from 'pg';
import type { SyncRunResult, RunSummary } from '../../contract';
import { EngineError, toWireError } from '../../core/engine-error';
import { sleep } from '../../core/sleep';
import { failedDatabaseResult, outcomeForError } from '../../sync';
import type { EngineContext } from '../engine-context';
import type { SyncEvent, SyncOptions } from '../modules';
import { translatePgError } from '../../postgres/pg-errors';
import type { DemoService } from '../services/demo-service';
import type { PostgresService } from '../services/postgres-service';
import type { Service } from '../services/service';
import type { CouchConnection, EngineSettings } from '../settings';
import type { StatusFeed } from '../status-feed';
import { combineOutcomes } from '../sync-status';
import type { Trigger } from '../types';

const FOLLOW_RETRY_MS = [5_000, 15_000, 60_000];

/**
 * Sync runs, with run history around each: one-shot (`syncNow`: a second call while
 * one runs joins it) and continuous (`startFollow`: the daemon; retried with a growing
 * pause after a failure it could not ride out).
 */
export class SyncRunner implements Service {
  readonly name = 'sync';
  private active: { promise: Promise<SyncRunResult>; abort: AbortController } | null = null;
  private follow: { abort: AbortController; done: Promise<void> } | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly settings: EngineSettings,
    private readonly status: StatusFeed,
    private readonly postgres: PostgresService,
    private readonly demo: DemoService,
  ) {
    ctx.closing.addEventListener('abort', () => this.abort(), { once: true });
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.abort();
    await this.stopFollow();
    await this.active?.promise.catch(() => undefined);
  }

  get isRunning(): boolean {
    return this.active !== null;
  }

  /** Cancels a one-shot run in flight (pause, close). */
  abort(): void {
    this.active?.abort.abort();
  }

  syncNow(args: { trigger: Trigger; databases?: string[]; timeoutSeconds?: number }): Promise<SyncRunResult> {
    if (this.follow) {
      return Promise.reject(
        new EngineError(
          'BUSY',
          'Continuous sync is running: changes are already copied as they happen. Pause it first to run a one-off sync.',
        ),
      );
    }
    // A sync is already running: join it rather than queue a second pass over the same feeds.
    if (this.active) return this.active.promise;
    const abort = new AbortController();
    const promise = this.runOnce(args.trigger, args.databases, args.timeoutSeconds, abort).finally(() => {
      this.active = null;
    });
    this.active = { promise, abort };
    return promise;
  }

  startFollow(onBatch: (docs: number) => void): void {
    const { ctx } = this;
    const abort = new AbortController();
    const loop = async (): Promise<void> => {
      let attempt = 0;
      while (!abort.signal.aborted) {
        await this.demo.ensure();
        let couch: CouchConnection;
        try {
          couch = this.settings.couchConnection();
        } catch (error) {
          ctx.logger.error('continuous sync cannot start', { error });
          return;
        }
        const startedAt = new Date().toISOString();
        const runId = ctx.store.runs.start('sync', 'daemon');
        this.status.runStarted(runId);
        let result: Omit<SyncRunResult, 'runId'>;
        try {
          const pool = await this.postgres.pool().catch((error: unknown) => {
            throw translatePgError(error, 'starting the continuous sync');
          });
          result = await ctx.modules.syncFollow(
            this.options(couch, couch.databases, pool, runId, abort.signal, (event) =>
              this.status.onSyncEvent(event, onBatch),
            ),
          );
        } catch (error) {
          result = this.failed(couch.databases, error, startedAt, (db) => ctx.modules.sourceFor(couch.url, db));
        }
        this.finish(runId, result);
        if (abort.signal.aborted) return;
        // syncFollow only returns on its own after a failure it could not ride out: retry with a growing pause.
        const wait = FOLLOW_RETRY_MS[Math.min(attempt, FOLLOW_RETRY_MS.length - 1)]!;
        attempt = result.outcome === 'done' ? 0 : attempt + 1;
        await sleep(wait, abort.signal);
      }
    };
    const done = loop().catch((error: unknown) => ctx.logger.error('continuous sync stopped', { error }));
    this.follow = { abort, done };
  }

  async stopFollow(): Promise<void> {
    const running = this.follow;
    if (!running) return;
    running.abort.abort();
    await running.done;
    this.follow = null;
  }

  private async runOnce(
    trigger: Trigger,
    databases: string[] | undefined,
    timeoutSeconds: number | undefined,
    abort: AbortController,
  ): Promise<SyncRunResult> {
    const { ctx } = this;
    await this.demo.ensure();
    const couch = this.settings.couchConnection();
    const selected = databases?.length ? databases : couch.databases;
    if (selected.length === 0)
      throw new EngineError(
        'NOT_CONFIGURED',
        'No databases are selected. Choose at least one in Settings (e.g. medic).',
      );
    const startedAt = new Date().toISOString();
    const runId = ctx.store.runs.start('sync', trigger);
    this.status.runStarted(runId);
    let result: Omit<SyncRunResult, 'runId'>;
    try {
      const pool = await this.postgres.pool().catch((error: unknown) => {
        throw translatePgError(error, 'starting the sync');
      });
      result = await ctx.modules.syncOnce({
        ...this.options(couch, selected, pool, runId, abort.signal, (event) => this.status.onSyncEvent(event)),
        ...(timeoutSeconds ? { timeoutSeconds } : {}),
      });
    } catch (error) {
      result = this.failed(selected, error, startedAt, (db) => ctx.modules.sourceFor(couch.url, db));
    }
    return this.finish(runId, result);
  }

  private failed(
    databases: string[],
    error: unknown,
    startedAt: string,
    sourceOf: (db: string) => string,
  ): Omit<SyncRunResult, 'runId'> {
    const wire = toWireError(error);
    const outcome = outcomeForError(wire);
    return {
      outcome,
      startedAt,
      finishedAt: new Date().toISOString(),
      databases: databases.map((database) => failedDatabaseResult(database, sourceOf(database), wire)),
    };
  }

  private finish(runId: number, result: Omit<SyncRunResult, 'runId'>): SyncRunResult {
    const { ctx, status } = this;
    const normalised = { ...result, outcome: result.databases.length ? normaliseOutcome(result) : result.outcome };
    let summary: RunSummary;
    try {
      summary = ctx.store.runs.finishSync(runId, normalised);
    } catch (error) {
      ctx.logger.error('could not record the sync run', { error, runId });
      summary = {
        id: runId,
        kind: 'sync',
        trigger: 'manual',
        outcome: normalised.outcome,
        startedAt: normalised.startedAt,
        finishedAt: normalised.finishedAt,
        count: 0,
        errorCount: 1,
        summary: 'not recorded',
      };
    }
    status.board.runFinished(runId, normalised.finishedAt, normalised.databases);
    if (status.isPaused) status.board.setAll(() => ({ kind: 'paused', since: new Date().toISOString() }));
    ctx.bus.emit('run.finished', summary);
    status.push(true);
    return { runId, ...normalised };
  }

  /** What both sync modes run with: the configured target, this run's logger, signal and event sink. */
  private options(
    couch: CouchConnection,
    databases: string[],
    pool: pg.Pool,
    runId: number,
    signal: AbortSignal,
    onEvent: (event: SyncEvent) => void,
  ): SyncOptions {
    const config = this.settings.current;
    const { databases: _databases, ...target } = couch;
    return {
      couch: target,
      databases,
      ...(couch.scope?.length ? { scope: couch.scope } : {}),
      pool,
      schema: config.schema,
      table: config.table,
      batchSize: config.batchSize,
      maxBatchBytes: config.maxBatchBytes,
      checkpoints: this.ctx.store.checkpoints,
      logger: this.ctx.logger.child({ part: 'sync', runId }),
      signal,
      onEvent,
    };
  }
}

/** The run's outcome from its databases' outcomes, so the top line never contradicts the rows. */
function normaliseOutcome(result: Omit<SyncRunResult, 'runId'>): SyncRunResult['outcome'] {
  if (result.outcome === 'cancelled') return 'cancelled';
  return combineOutcomes(result.databases.map((d) => d.outcome));
}
