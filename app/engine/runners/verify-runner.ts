import type { RunSummary, VerifyRunResult } from '../../contract';
import { EngineError, toWireError } from '../../core/engine-error';
import { outcomeForError } from '../../sync';
import type { EngineContext } from '../engine-context';
import { translatePgError } from '../../postgres/pg-errors';
import type { DemoService } from '../services/demo-service';
import type { PostgresService } from '../services/postgres-service';
import type { EngineSettings } from '../settings';
import type { StatusFeed } from '../status-feed';
import type { Trigger } from '../types';
import type { Service } from '../services/service';

/**
 * Reconciliation runs ("Check for missing or extra records", `cht-sync verify [--fix]`), recorded
 * in run history as kind `verify`. One at a time: a second request while one runs joins it when it
 * asks the same (check or fix), and is refused as BUSY otherwise.
 */
export class VerifyRunner implements Service {
  readonly name = 'verify';
  private active: { promise: Promise<VerifyRunResult>; fix: boolean; abort: AbortController } | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly settings: EngineSettings,
    private readonly status: StatusFeed,
    private readonly postgres: PostgresService,
    private readonly demo: DemoService,
  ) {
    ctx.closing.addEventListener('abort', () => this.active?.abort.abort(), { once: true });
  }

  async start(): Promise<void> {}

  /** Waits for a verify in flight (the closing signal has cancelled it) before the store closes. */
  async stop(): Promise<void> {
    await this.active?.promise.catch(() => undefined);
  }

  get isRunning(): boolean {
    return this.active !== null;
  }

  verifyNow(args: { trigger: Trigger; fix: boolean }): Promise<VerifyRunResult> {
    if (this.active) {
      if (this.active.fix === args.fix) return this.active.promise;
      return Promise.reject(
        new EngineError(
          'BUSY',
          'A check for missing or extra records is already running. Wait for it to finish, then start this one.',
          { retryable: true },
        ),
      );
    }
    const abort = new AbortController();
    const promise = this.run(args, abort).finally(() => {
      this.active = null;
    });
    this.active = { promise, fix: args.fix, abort };
    return promise;
  }

  private async run(args: { trigger: Trigger; fix: boolean }, abort: AbortController): Promise<VerifyRunResult> {
    const { ctx } = this;
    await this.demo.ensure();
    const couch = this.settings.couchConnection();
    const config = this.settings.current;
    const startedAt = new Date().toISOString();
    const runId = ctx.store.runs.start('verify', args.trigger);
    this.status.runStarted(runId);
    let result: Omit<VerifyRunResult, 'runId'>;
    try {
      const pool = await this.postgres.pool().catch((error: unknown) => {
        throw translatePgError(error, 'checking for missing or extra records');
      });
      const { databases, scope, ...target } = couch;
      result = await ctx.modules.verifyRaw({
        couch: target,
        databases,
        ...(scope?.length ? { scope } : {}),
        pool,
        schema: config.schema,
        table: config.table,
        fix: args.fix,
        logger: ctx.logger.child({ part: 'verify', runId }),
        signal: abort.signal,
      });
    } catch (error) {
      const wire = toWireError(error);
      result = {
        outcome: outcomeForError(wire),
        startedAt,
        finishedAt: new Date().toISOString(),
        isFix: args.fix,
        databases: couch.databases.map((database) => ({
          database,
          source: ctx.modules.sourceFor(couch.url, database),
          outcome: outcomeForError(wire),
          serverDocs: 0,
          rows: 0,
          missing: 0,
          stale: 0,
          purged: 0,
          outOfScope: 0,
          fetched: 0,
          marked: 0,
          samples: { missing: [], stale: [], purged: [], outOfScope: [] },
          seconds: 0,
          error: wire,
        })),
      };
    }
    let summary: RunSummary;
    try {
      summary = ctx.store.runs.finishVerify(runId, result);
    } catch (error) {
      ctx.logger.error('could not record the verify run', { error, runId });
      summary = {
        id: runId,
        kind: 'verify',
        trigger: args.trigger,
        outcome: result.outcome,
        startedAt: result.startedAt,
        finishedAt: result.finishedAt,
        count: 0,
        errorCount: 1,
        summary: 'not recorded',
      };
    }
    ctx.bus.emit('run.finished', summary);
    this.status.push(true);
    return { runId, ...result };
  }
}
