import path from 'node:path';
import type { TransformRunResult } from '../../contract';
import { EngineError, toWireError } from '../../core/engine-error';
import { safeUrl } from '../../core/redact';
import type { EngineContext } from '../engine-context';
import { translatePgError } from '../../postgres/pg-errors';
import { COALESCED_WARNING } from '../../transform';
import type { RunSummary } from '../../contract';
import { databaseName, type PostgresService } from '../services/postgres-service';
import type { Service } from '../services/service';
import type { EngineSettings } from '../settings';
import type { StatusFeed } from '../status-feed';
import type { Engine } from '../types';

export type TransformArgs = Parameters<Engine['transformNow']>[0];

/**
 * Transform runs, with run history and model fingerprints (for `state:modified`)
 * around each. Never two at once: `transformNow` refuses with BUSY, the daemon and
 * the schedule wait (`whenFree`). Closing the engine cancels the run in flight.
 */
export class TransformRunner implements Service {
  readonly name = 'transforms';
  private active: Promise<TransformRunResult> | null = null;
  private readonly finishedListeners: ((run: RunSummary, o: { isCoalesced: boolean }) => void)[] = [];

  constructor(
    private readonly ctx: EngineContext,
    private readonly settings: EngineSettings,
    private readonly status: StatusFeed,
    private readonly postgres: PostgresService,
  ) {}

  async start(): Promise<void> {}

  /** Each finished run, and whether it was coalesced (nothing to do: another run had covered every row). */
  onRunFinished(listener: (run: RunSummary, o: { isCoalesced: boolean }) => void): void {
    this.finishedListeners.push(listener);
  }

  private finished(run: RunSummary, isCoalesced: boolean): void {
    for (const listener of this.finishedListeners) {
      try {
        listener(run, { isCoalesced });
      } catch (error) {
        this.ctx.logger.warn('transform run listener failed', { error });
      }
    }
    this.ctx.bus.emit('run.finished', run);
  }

  async stop(): Promise<void> {
    await this.active?.catch(() => undefined);
  }

  transformNow(args: TransformArgs): Promise<TransformRunResult> {
    if (this.active) {
      return Promise.reject(
        new EngineError(
          'BUSY',
          'Transforms are already running. Wait for them to finish (see Run history), then try again.',
          { retryable: true },
        ),
      );
    }
    const promise = this.runOnce(args).finally(() => {
      this.active = null;
    });
    this.active = promise;
    return promise;
  }

  /** For the daemon and the schedule: wait for a running transform instead of failing with BUSY. */
  async whenFree(args: TransformArgs): Promise<TransformRunResult | null> {
    while (this.active) await this.active.catch(() => undefined);
    if (this.ctx.closing.aborted) return null;
    return this.transformNow(args);
  }

  /** The key model fingerprints are kept under: one per project. */
  private projectKey(): string {
    const p = this.settings.current.pipeline;
    return p.kind === 'bundled'
      ? 'bundled'
      : p.kind === 'folder'
        ? `folder:${path.resolve(p.path)}`
        : `git:${safeUrl(p.url)}`;
  }

  private async runOnce(args: TransformArgs): Promise<TransformRunResult> {
    const { ctx } = this;
    const startedAt = new Date().toISOString();
    const runId = ctx.store.runs.start('transform', args.trigger);
    this.status.runStarted(runId);
    const key = this.projectKey();
    try {
      const { pool, url } = await this.postgres.get().catch((error: unknown) => {
        throw translatePgError(error, 'starting the transforms');
      });
      const config = this.settings.current;
      const vars: Record<string, unknown> = { ...args.vars };
      // cht-sync passes DBT_BATCH_SIZE as the `batch_size` var.
      if (config.transform.batchSize !== null && vars.batch_size === undefined)
        vars.batch_size = config.transform.batchSize;
      const select = args.select?.length
        ? args.select
        : config.transform.selector
          ? config.transform.selector.split(/[\s,]+/).filter(Boolean)
          : undefined;
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (typeof v === 'string') env[k] = v;
      const outcome = await ctx.modules.runTransform({
        project: config.pipeline,
        cacheDir: path.join(ctx.dataDir, 'projects'),
        pool,
        database: databaseName(url),
        schema: config.schema,
        table: config.table,
        ...(select ? { select } : {}),
        ...(args.exclude?.length ? { exclude: args.exclude } : {}),
        ...(args.fullRefresh ? { fullRefresh: true } : {}),
        vars,
        threads: config.transform.threads,
        // `cht-sync dbt <command>`: node kinds, build gating, fail-fast, a profile's target …
        ...args.dbt,
        previousFingerprints: ctx.store.models.getFingerprints(key),
        env,
        logger: ctx.logger.child({ part: 'transform', runId }),
        signal: ctx.closing,
        onModelFinished: (model) => ctx.bus.emit('transform.modelFinished', { runId, model }),
        // The daemon's runs skip work another service (or an earlier run) already did.
        coalesce: args.trigger === 'daemon',
      });
      if (outcome.result.outcome !== 'failed' || outcome.fingerprints.size > 0)
        ctx.store.models.setFingerprints(key, outcome.fingerprints);
      const summary = ctx.store.runs.finishTransform(runId, outcome.result);
      this.finished(summary, outcome.result.warnings.includes(COALESCED_WARNING));
      return { runId, ...outcome.result };
    } catch (error) {
      const wire = toWireError(error);
      const summary = ctx.store.runs.fail(runId, 'failed', wire);
      this.finished(summary, false);
      return {
        runId,
        outcome: 'failed',
        startedAt,
        finishedAt: new Date().toISOString(),
        project: key,
        models: [],
        warnings: [wire.message],
      };
    }
  }
}
