import pkg from '../../package.json';
import type { AppInfo } from '../contract';
import type { Logger } from '../core/logger';
import { resolveConfig } from '../config';
import { openStore, storeFile, type SavedSettings, type SecretStore, type Store } from '../store';
import type { EngineConfig } from './config';
import { defaultModules } from './default-modules';
import type { EngineContext } from './engine-context';
import { EventBus } from './event-bus';
import { inspectRawTables, type RawInspection } from '../preflight/inspect-raw';
import { createHandlers, exportCsv, type EngineParts } from './handlers';
import type { EngineModules } from './modules';
import { translatePgError } from '../postgres/pg-errors';
import { SyncRunner } from './runners/sync-runner';
import { TransformRunner } from './runners/transform-runner';
import { VerifyRunner } from './runners/verify-runner';
import { DemoService } from './services/demo-service';
import { MetricsService, SyncMetrics } from './services/metrics-service';
import { PostgresService } from './services/postgres-service';
import { Scheduler } from './services/scheduler';
import { startServices, stopServices, type Service } from './services/service';
import { EngineSettings, savedOverStartup } from './settings';
import { StatusFeed } from './status-feed';
import type { Engine } from './types';

export interface CreateEngineOptions {
  dataDir: string;
  /** The startup configuration (app/config resolveConfig: flags > env > saved > defaults). */
  config: EngineConfig;
  logger: Logger;
  /** An open store for dataDir (bootEngine's); the engine owns it from here and closes it. Default: opened here. */
  store?: Store;
  /** Desktop: safeStorage-backed; default the 0600 secrets file in the data folder. */
  secretStore?: SecretStore;
  host: AppInfo['host'];
  /** Re-derives the config after the UI changed settings; default: saved settings over the startup config. */
  resolveConfig?: (saved: SavedSettings) => EngineConfig;
  /** Tests substitute parts; production uses the real stage modules. */
  modules?: Partial<EngineModules>;
  /** Electron's version when hosted by it, for diagnostics. */
  electronVersion?: string;
  /** Tests only: the length of a schedule "minute". */
  minuteMs?: number;
  /**
   * A look at the state only (`cht-sync status`): runs another process left open are
   * not marked interrupted, since that process may still be running them.
   */
  isObserver?: boolean;
  /** A headless service's /metrics, /healthz and /readyz: started with the engine, on this address. */
  metrics?: { port: number; host: string };
}

/** The engine as its hosts use it: the contract's Engine plus what only an in-process host needs. */
export interface LocalEngine extends Engine {
  /** Starts (embedded) or connects to PostgreSQL; resolves to its URL. */
  ensurePostgres(): Promise<string>;
  /** The configuration in effect (flags > environment > saved settings > defaults). */
  config(): EngineConfig;
  /** Where /metrics, /healthz and /readyz answer (null when not asked for). */
  metricsUrl(): string | null;
  /** Checks, before any work, that every configured database exists and the credentials work. */
  checkCouch(): Promise<void>;
  /** Checks, before any work, that an external PostgreSQL accepts the login and the raw schema can be written. */
  checkPostgres(): Promise<void>;
  /** The demo (`cht-sync demo`): a few documents added, edited and deleted on the demo server now and then. */
  startDemoActivity(): void;
  /** The raw table on an external PostgreSQL as it stands (rows, newest row, each configured database's saved position); null with the embedded one. */
  inspectRaw(): Promise<{ sources: { database: string; source: string }[]; raw: RawInspection } | null>;
}

/**
 * The composition root: one per process, used by the CLI, the HTTP host and
 * Electron. Builds the shared context, the settings in effect, the services
 * (status, embedded PostgreSQL, demo server, sync and transform runners, the
 * scheduler: started in that order, stopped in reverse) and the handler table of
 * every API method, each domain's from handlers/.
 */
export async function createEngine(o: CreateEngineOptions): Promise<LocalEngine> {
  const logger = o.logger;
  const store: Store = o.store ?? openStore(storeFile(o.dataDir), o.secretStore ? { secretStore: o.secretStore } : {});
  if (!o.isObserver) {
    const interrupted = store.runs.markInterrupted();
    if (interrupted)
      logger.warn('runs left unfinished by a previous process were marked failed', { count: interrupted });
  }
  const closing = new AbortController();
  const ctx: EngineContext = {
    dataDir: o.dataDir,
    info: { version: pkg.version, dataDir: o.dataDir, platform: `${process.platform}-${process.arch}`, host: o.host },
    logger,
    modules: { ...defaultModules, ...o.modules },
    store,
    bus: new EventBus(logger),
    closing: closing.signal,
    electronVersion: o.electronVersion ?? null,
    minuteMs: o.minuteMs ?? 60_000,
  };
  const reresolve =
    o.resolveConfig ??
    savedOverStartup(
      o.config,
      (saved) => resolveConfig({ flags: {}, env: process.env, saved, dataDir: o.dataDir, secrets: store.secrets }),
      store.settings.get(),
      logger,
    );
  // Listeners of a settings change run in construction order: the status first, then PostgreSQL, then the schedule.
  const settings = new EngineSettings(store, o.config, reresolve);
  const status = new StatusFeed(ctx, settings);
  const postgres = new PostgresService(ctx, settings);
  const demo = new DemoService(ctx, settings);
  const sync = new SyncRunner(ctx, settings, status, postgres, demo);
  const transforms = new TransformRunner(ctx, settings, status, postgres);
  const scheduler = new Scheduler(ctx, settings, status, demo, sync, transforms);
  const verify = new VerifyRunner(ctx, settings, status, postgres, demo);
  const parts: EngineParts = { ctx, settings, status, postgres, demo, sync, transforms, verify, scheduler };
  const metrics = o.metrics ? metricsService(ctx, o.metrics, { settings, status, postgres, transforms }) : null;
  // Metrics first: /healthz answers while the rest starts (and while a service waits for its servers).
  const services: Service[] = [
    ...(metrics ? [metrics] : []),
    demo,
    postgres,
    status,
    sync,
    transforms,
    verify,
    scheduler,
  ];
  await startServices(services);

  let closed: Promise<void> | null = null;
  return {
    info: ctx.info,
    handlers: createHandlers(parts),
    events: ctx.bus,
    syncNow: (args) => sync.syncNow(args),
    transformNow: (args) => transforms.transformNow(args),
    exportCsv: (args, write) => exportCsv(parts, args, write),
    startDaemon: (options) => scheduler.startDaemon(options),
    stopDaemon: () => scheduler.stopDaemon(),
    postgresUrl: () => postgres.url(),
    async ensurePostgres() {
      try {
        return (await postgres.get()).url;
      } catch (error) {
        throw translatePgError(error, 'starting PostgreSQL');
      }
    },
    config: () => settings.current,
    metricsUrl: () => metrics?.url ?? null,
    async checkCouch() {
      const couch = settings.couchConnection();
      await ctx.modules.checkDatabases(couch, couch.databases, { timeoutMs: 15_000 });
    },
    async checkPostgres() {
      const config = settings.current;
      if (config.postgres.kind !== 'external') return;
      await ctx.modules.probePostgres(config.postgres.url, { schema: config.schema, requireWrite: true });
    },
    startDemoActivity: () => demo.startActivity(),
    async inspectRaw() {
      const config = settings.current;
      if (config.postgres.kind !== 'external') return null;
      const couch = config.couch;
      const sources = couch
        ? couch.databases.map((database) => ({ database, source: ctx.modules.sourceFor(couch.url, database) }))
        : [];
      const raw = await inspectRawTables(config.postgres.url, {
        schema: config.schema,
        table: config.table,
        sources: sources.map((s) => s.source),
      });
      return { sources, raw };
    },
    close() {
      // Every caller (a signal handler and the command's own cleanup) waits for the same shutdown.
      closed ??= (async () => {
        closing.abort();
        await stopServices(services, (service, error) =>
          logger.warn(`the ${service.name} service did not stop cleanly`, { error }),
        );
        store.close();
      })();
      return closed;
    },
  };
}

/**
 * The metrics service: cht-sync's metrics fed by the sync's events (through the status feed),
 * the contract events and the transform runner, served with /healthz and /readyz (PostgreSQL
 * answers; the last cycle did not fail).
 */
function metricsService(
  ctx: EngineContext,
  endpoint: { port: number; host: string },
  parts: { settings: EngineSettings; status: StatusFeed; postgres: PostgresService; transforms: TransformRunner },
): MetricsService {
  const metrics = new SyncMetrics(ctx.info.version);
  metrics.databases(parts.settings.current.couch?.databases ?? []);
  metrics.follow(ctx.bus);
  parts.status.onEachSyncEvent((event) => metrics.onSyncEvent(event));
  parts.transforms.onRunFinished((run, o) => metrics.onTransformRun(run, o));
  return new MetricsService({
    ...endpoint,
    metrics,
    logger: ctx.logger.child({ part: 'metrics' }),
    readiness: async () => {
      const checks: Record<string, { ok: boolean; message?: string }> = {};
      try {
        const { pool } = await parts.postgres.get();
        await Promise.race([pool.query('select 1'), rejectAfter(5_000)]);
        checks.postgres = { ok: true };
      } catch (error) {
        checks.postgres = { ok: false, message: translatePgError(error, 'checking PostgreSQL').message };
      }
      const lastCycle = metrics.lastCycleError;
      checks.lastCycle = lastCycle ? { ok: false, message: lastCycle } : { ok: true };
      return { ok: Object.values(checks).every((c) => c.ok), checks };
    },
  });
}

function rejectAfter(ms: number): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms).unref());
}
