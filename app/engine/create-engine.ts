import path from 'node:path';
import pg from 'pg';
import pkg from '../../package.json';
import type {
  AppInfo,
  ConnectionInfo,
  ParsedArgs,
  RunSummary,
  SettingsView,
  SyncRunResult,
  SyncState,
  TransformRunResult,
  WireError,
} from '../contract';
import { EngineError, toWireError } from '../core/engine-error';
import { sleep } from '../core/sleep';
import { failedDatabaseResult, outcomeForError } from '../sync';
import type { Logger } from '../core/logger';
import { registerSecret, safeUrl } from '../core/redact';
import type { EmbeddedPostgresHandle } from '../postgres/embedded';
import { openStore, SECRET_NAMES, storeFile, type SavedSettings, type SecretStore, type Store } from '../store';
import { resolveConfig } from '../config';
import { configFromSaved, withPassword, type EngineConfig } from './config';
import { chartData } from './data/charts';
import { exportTableCsv, listTables, previewTable } from './data/tables';
import { defaultModules } from './default-modules';
import { diagnosticsReport } from './diagnostics';
import { EventBus } from './event-bus';
import type { DemoCouchHandle, EngineModules, SyncEvent, SyncOptions } from './modules';
import { translatePgError } from './pg-errors';
import { combineOutcomes, shortSeq, SyncStatusBoard } from './sync-status';
import { TransformDaemon } from './transform-daemon';
import type { Engine, HandlerTable, Trigger } from './types';

export interface CreateEngineOptions {
  dataDir: string;
  /** The startup configuration (app/config resolveConfig: flags > env > saved > defaults). */
  config: EngineConfig;
  logger: Logger;
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
}

/** Plain-language cap for the CSV export: beyond this a spreadsheet is the wrong tool. */
const MAX_EXPORT_ROWS = 1_000_000;
/** The in-memory export (one JSON value over IPC/HTTP) stops here; the streaming download does not. */
const MAX_INLINE_EXPORT_BYTES = 64 * 1024 * 1024;
const FOLLOW_RETRY_MS = [5_000, 15_000, 60_000];

/**
 * The composition root: one per process, used by the CLI, the HTTP host and
 * Electron. Owns the store, the analytics-database pool (embedded or external),
 * the per-database sync status, the schedule / daemon, run history around every
 * sync and transform, and the handler table of every API method.
 */
export async function createEngine(o: CreateEngineOptions): Promise<Engine & { ensurePostgres(): Promise<string> }> {
  const logger = o.logger;
  const modules: EngineModules = { ...defaultModules, ...o.modules };
  const store: Store = openStore(storeFile(o.dataDir), o.secretStore ? { secretStore: o.secretStore } : {});
  const interrupted = store.runs.markInterrupted();
  if (interrupted) logger.warn('runs left unfinished by a previous process were marked failed', { count: interrupted });
  const bus = new EventBus(logger);
  const startupConfig = o.config;
  const reresolve = o.resolveConfig ?? savedOverStartup(startupConfig, (saved) => resolveConfig({ flags: {}, env: process.env, saved, dataDir: o.dataDir, secrets: store.secrets }), store.settings.get(), logger);
  let config = startupConfig;
  const info: AppInfo = { version: pkg.version, dataDir: o.dataDir, platform: `${process.platform}-${process.arch}`, host: o.host };

  // ---- secrets and connection details ---------------------------------------------------------
  const secret = (name: string): string | null => {
    const value = store.secrets.get(name);
    registerSecret(value);
    return value;
  };
  registerSecret(config.couch?.password);

  function couchConnection(): { url: string; username?: string; password?: string; databases: string[]; scope?: string[] } {
    if (!config.couch) throw new EngineError('NOT_CONFIGURED', 'No CHT instance is configured yet. Finish the setup (or pass --couch-url / COUCHDB_HOST).');
    const password = config.couch.password ?? secret(SECRET_NAMES.couchPassword) ?? undefined;
    return { ...config.couch, ...(password ? { password } : {}) };
  }

  // ---- the analytics database -----------------------------------------------------------------
  interface PgState {
    url: string;
    pool: pg.Pool;
    embedded: EmbeddedPostgresHandle | null;
  }
  let isClosed = false;
  let pgState: PgState | null = null;
  let pgStarting: Promise<PgState> | null = null;

  async function startPostgres(): Promise<PgState> {
    let url: string;
    let embedded: EmbeddedPostgresHandle | null = null;
    if (config.postgres.kind === 'embedded') {
      embedded = await modules.startEmbeddedPostgres(o.dataDir, { logger: logger.child({ part: 'postgres' }) });
      url = embedded.url;
      const saved = store.settings.get();
      if (saved.postgres.kind === 'embedded' && saved.postgres.port !== embedded.port) store.settings.update({ postgres: { kind: 'embedded', port: embedded.port } });
    } else {
      url = withPassword(config.postgres.url, secret(SECRET_NAMES.postgresPassword));
    }
    const parsed = new URL(url);
    registerSecret(decodeURIComponent(parsed.password));
    const pool = new pg.Pool({ connectionString: url, max: 8, application_name: 'cht-sync', idleTimeoutMillis: 30_000 });
    pool.on('error', (error) => {
      // 57P01: the server is shutting down (ours, on quit, or an administrator's): expected, not a fault.
      if ((error as { code?: string }).code === '57P01') logger.info('PostgreSQL closed an idle connection: the server is shutting down');
      else logger.warn('idle PostgreSQL connection failed', { error });
    });
    return { url, pool, embedded };
  }

  function getPostgres(): Promise<PgState> {
    // Work that finishes after close() (a debounced transform, a status refresh) must not start a new server.
    if (isClosed) return Promise.reject(new EngineError('CANCELLED', 'The engine is shutting down.'));
    if (pgState) return Promise.resolve(pgState);
    if (!pgStarting) {
      pgStarting = startPostgres().then(
        (state) => {
          pgState = state;
          pgStarting = null;
          return state;
        },
        (error: unknown) => {
          pgStarting = null;
          throw error;
        },
      );
    }
    return pgStarting;
  }

  async function getPool(): Promise<pg.Pool> {
    return (await getPostgres()).pool;
  }

  async function stopPostgres(): Promise<void> {
    const state = pgState ?? (await pgStarting?.catch(() => null)) ?? null;
    pgState = null;
    if (!state) return;
    await state.pool.end().catch(() => undefined);
    await state.embedded?.stop().catch((error: unknown) => logger.warn('embedded postgres did not stop cleanly', { error }));
  }

  function databaseName(url: string): string {
    return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
  }

  // ---- the demo instance ------------------------------------------------------------------------
  let demo: DemoCouchHandle | null = null;
  let demoStarting: Promise<void> | null = null;

  async function startDemo(port?: number): Promise<DemoCouchHandle> {
    const handle = await modules.startDemoCouch({ dataDir: o.dataDir, logger: logger.child({ part: 'demo' }), ...(port ? { port } : {}) });
    registerSecret(handle.password);
    demo = handle;
    return handle;
  }

  /** A saved demo setup needs its server running again after a restart (same port, same data). */
  function ensureDemo(): Promise<void> {
    const saved = store.settings.get();
    if (!saved.isDemo || demo || !saved.couch.url) return Promise.resolve();
    if (!demoStarting) {
      const port = Number(new URL(saved.couch.url).port) || undefined;
      demoStarting = startDemo(port)
        .then((handle) => {
          if (handle.url !== saved.couch.url || handle.username !== saved.couch.username) {
            store.settings.update({ couch: { ...saved.couch, url: handle.url, username: handle.username } });
          }
          store.secrets.set(SECRET_NAMES.couchPassword, handle.password);
          applySettings(false);
        })
        .catch((error: unknown) => logger.error('the demo CouchDB server could not start', { error }))
        .finally(() => {
          demoStarting = null;
        });
    }
    return demoStarting;
  }

  // ---- sync status ------------------------------------------------------------------------------
  const board = new SyncStatusBoard((database) => (config.couch ? modules.sourceFor(config.couch.url, database) : database));
  let isPaused = false;

  function seedStatus(): void {
    const recent = store.runs.list({ kind: 'sync', limit: 20 });
    const details = recent.map((r) => store.runs.get(r.id)).filter((d) => d !== null);
    board.configure(config.couch?.databases ?? [], (database, source) => {
      const checkpoint = store.checkpoints.get(source);
      const lastDetail = details.find((d) => d.databases?.some((x) => x.database === database));
      const lastRow = lastDetail?.databases?.find((x) => x.database === database);
      const success = details.find((d) => d.databases?.some((x) => x.database === database && (x.outcome === 'done' || x.reachedEnd)));
      return {
        seqShort: checkpoint ? shortSeq(checkpoint.seq) : null,
        pending: checkpoint?.pending ?? null,
        lastRun: lastDetail && lastRow ? { runId: lastDetail.id, outcome: lastRow.outcome, finishedAt: lastDetail.finishedAt } : null,
        lastSuccessAt: success?.finishedAt ?? null,
        ...(isPaused ? { state: { kind: 'paused', since: new Date().toISOString() } satisfies SyncState } : {}),
      };
    });
  }

  let statusTimer: NodeJS.Timeout | null = null;
  /** Coalesces status pushes: progress events arrive per batch, the UI needs a few per second. */
  function pushStatus(now = false): void {
    if (now) {
      if (statusTimer) clearTimeout(statusTimer);
      statusTimer = null;
      bus.emit('sync.statusChanged', board.list());
      return;
    }
    if (statusTimer) return;
    statusTimer = setTimeout(() => {
      statusTimer = null;
      bus.emit('sync.statusChanged', board.list());
    }, 250);
  }

  function onSyncEvent(event: SyncEvent, onBatch?: (docs: number) => void): void {
    try {
      if (event.type === 'state') {
        if (board.setState(event.database, event.state)) bus.emit('sync.stateChanged', { database: event.database, state: event.state });
        pushStatus(true);
      } else if (event.type === 'progress') {
        const { type: _type, ...progress } = event;
        board.progress(progress);
        bus.emit('sync.progress', progress);
        pushStatus();
      } else if (event.type === 'batch') {
        const row = board.get(event.database);
        if (row) {
          const checkpoint = store.checkpoints.get(row.source);
          board.checkpoint(event.database, checkpoint?.seq ?? null, checkpoint?.pending ?? null);
        }
        if (event.docs > 0) onBatch?.(event.docs);
        pushStatus();
      }
    } catch (error) {
      logger.warn('sync event handling failed', { error });
    }
  }

  function runStarted(id: number): void {
    const detail = store.runs.get(id);
    if (detail) bus.emit('run.started', summaryOf(detail));
  }

  // ---- sync -------------------------------------------------------------------------------------
  let activeSync: { promise: Promise<SyncRunResult>; abort: AbortController } | null = null;
  let follow: { abort: AbortController; done: Promise<void> } | null = null;

  function failedSync(databases: string[], error: unknown, startedAt: string, sourceOf: (db: string) => string): Omit<SyncRunResult, 'runId'> {
    const wire = toWireError(error);
    const outcome = outcomeForError(wire);
    return {
      outcome,
      startedAt,
      finishedAt: new Date().toISOString(),
      databases: databases.map((database) => failedDatabaseResult(database, sourceOf(database), wire)),
    };
  }

  function finishSyncRun(runId: number, result: Omit<SyncRunResult, 'runId'>): SyncRunResult {
    const normalised = { ...result, outcome: result.databases.length ? normaliseOutcome(result) : result.outcome };
    let summary: RunSummary;
    try {
      summary = store.runs.finishSync(runId, normalised);
    } catch (error) {
      logger.error('could not record the sync run', { error, runId });
      summary = { id: runId, kind: 'sync', trigger: 'manual', outcome: normalised.outcome, startedAt: normalised.startedAt, finishedAt: normalised.finishedAt, count: 0, errorCount: 1, summary: 'not recorded' };
    }
    board.runFinished(runId, normalised.finishedAt, normalised.databases);
    if (isPaused) board.setAll(() => ({ kind: 'paused', since: new Date().toISOString() }));
    bus.emit('run.finished', summary);
    pushStatus(true);
    return { runId, ...normalised };
  }

  /** What both sync modes run with: the configured target, this run's logger, signal and event sink. */
  function syncOptions(
    couch: ReturnType<typeof couchConnection>,
    databases: string[],
    pool: pg.Pool,
    runId: number,
    signal: AbortSignal,
    onEvent: (event: SyncEvent) => void,
  ): SyncOptions {
    return {
      couch: couchTarget(couch),
      databases,
      ...(couch.scope?.length ? { scope: couch.scope } : {}),
      pool,
      schema: config.schema,
      table: config.table,
      batchSize: config.batchSize,
      maxBatchBytes: config.maxBatchBytes,
      checkpoints: store.checkpoints,
      logger: logger.child({ part: 'sync', runId }),
      signal,
      onEvent,
    };
  }

  async function runSyncOnce(trigger: Trigger, databases: string[] | undefined, timeoutSeconds: number | undefined, abort: AbortController): Promise<SyncRunResult> {
    await ensureDemo();
    const couch = couchConnection();
    const selected = databases?.length ? databases : couch.databases;
    if (selected.length === 0) throw new EngineError('NOT_CONFIGURED', 'No databases are selected. Choose at least one in Settings (e.g. medic).');
    const startedAt = new Date().toISOString();
    const runId = store.runs.start('sync', trigger);
    runStarted(runId);
    let result: Omit<SyncRunResult, 'runId'>;
    try {
      const pool = await getPool().catch((error: unknown) => {
        throw translatePgError(error, 'starting the sync');
      });
      result = await modules.syncOnce({
        ...syncOptions(couch, selected, pool, runId, abort.signal, (event) => onSyncEvent(event)),
        ...(timeoutSeconds ? { timeoutSeconds } : {}),
      });
    } catch (error) {
      result = failedSync(selected, error, startedAt, (db) => modules.sourceFor(couch.url, db));
    }
    return finishSyncRun(runId, result);
  }

  function syncNow(args: { trigger: Trigger; databases?: string[]; timeoutSeconds?: number }): Promise<SyncRunResult> {
    if (follow) {
      return Promise.reject(new EngineError('BUSY', 'Continuous sync is running: changes are already copied as they happen. Pause it first to run a one-off sync.'));
    }
    // A sync is already running: join it rather than queue a second pass over the same feeds.
    if (activeSync) return activeSync.promise;
    const abort = new AbortController();
    const promise = runSyncOnce(args.trigger, args.databases, args.timeoutSeconds, abort).finally(() => {
      activeSync = null;
    });
    activeSync = { promise, abort };
    return promise;
  }

  function startFollow(onBatch: (docs: number) => void): void {
    const abort = new AbortController();
    const loop = async (): Promise<void> => {
      let attempt = 0;
      while (!abort.signal.aborted) {
        await ensureDemo();
        let couch: ReturnType<typeof couchConnection>;
        try {
          couch = couchConnection();
        } catch (error) {
          logger.error('continuous sync cannot start', { error });
          return;
        }
        const startedAt = new Date().toISOString();
        const runId = store.runs.start('sync', 'daemon');
        runStarted(runId);
        let result: Omit<SyncRunResult, 'runId'>;
        try {
          const pool = await getPool().catch((error: unknown) => {
            throw translatePgError(error, 'starting the continuous sync');
          });
          result = await modules.syncFollow(syncOptions(couch, couch.databases, pool, runId, abort.signal, (event) => onSyncEvent(event, onBatch)));
        } catch (error) {
          result = failedSync(couch.databases, error, startedAt, (db) => modules.sourceFor(couch.url, db));
        }
        finishSyncRun(runId, result);
        if (abort.signal.aborted) return;
        // syncFollow only returns on its own after a failure it could not ride out: retry with a growing pause.
        const wait = FOLLOW_RETRY_MS[Math.min(attempt, FOLLOW_RETRY_MS.length - 1)]!;
        attempt = result.outcome === 'done' ? 0 : attempt + 1;
        await sleep(wait, abort.signal);
      }
    };
    const done = loop().catch((error: unknown) => logger.error('continuous sync stopped', { error }));
    follow = { abort, done };
  }

  async function stopFollow(): Promise<void> {
    const running = follow;
    if (!running) return;
    running.abort.abort();
    await running.done;
    follow = null;
  }

  // ---- transforms -------------------------------------------------------------------------------
  let activeTransform: Promise<TransformRunResult> | null = null;
  const transformAbort = new AbortController();

  function projectKey(): string {
    const p = config.pipeline;
    return p.kind === 'bundled' ? 'bundled' : p.kind === 'folder' ? `folder:${path.resolve(p.path)}` : `git:${safeUrl(p.url)}`;
  }

  async function runTransformOnce(args: { trigger: Trigger; select?: string[]; exclude?: string[]; fullRefresh?: boolean; vars?: Record<string, unknown> }): Promise<TransformRunResult> {
    const startedAt = new Date().toISOString();
    const runId = store.runs.start('transform', args.trigger);
    runStarted(runId);
    const key = projectKey();
    try {
      const { pool, url } = await getPostgres().catch((error: unknown) => {
        throw translatePgError(error, 'starting the transforms');
      });
      const vars: Record<string, unknown> = { ...args.vars };
      // cht-sync passes DBT_BATCH_SIZE as the `batch_size` var.
      if (config.transform.batchSize !== null && vars.batch_size === undefined) vars.batch_size = config.transform.batchSize;
      const select = args.select?.length ? args.select : config.transform.selector ? config.transform.selector.split(/[\s,]+/).filter(Boolean) : undefined;
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (typeof v === 'string') env[k] = v;
      const outcome = await modules.runTransform({
        project: config.pipeline,
        cacheDir: path.join(o.dataDir, 'projects'),
        pool,
        database: databaseName(url),
        schema: config.schema,
        table: config.table,
        ...(select ? { select } : {}),
        ...(args.exclude?.length ? { exclude: args.exclude } : {}),
        ...(args.fullRefresh ? { fullRefresh: true } : {}),
        vars,
        threads: config.transform.threads,
        previousFingerprints: store.models.getFingerprints(key),
        env,
        logger: logger.child({ part: 'transform', runId }),
        signal: transformAbort.signal,
        onModelFinished: (model) => bus.emit('transform.modelFinished', { runId, model }),
      });
      if (outcome.result.outcome !== 'failed' || outcome.fingerprints.size > 0) store.models.setFingerprints(key, outcome.fingerprints);
      const summary = store.runs.finishTransform(runId, outcome.result);
      bus.emit('run.finished', summary);
      return { runId, ...outcome.result };
    } catch (error) {
      const wire = toWireError(error);
      const summary = store.runs.fail(runId, 'failed', wire);
      bus.emit('run.finished', summary);
      return { runId, outcome: 'failed', startedAt, finishedAt: new Date().toISOString(), project: key, models: [], warnings: [wire.message] };
    }
  }

  function transformNow(args: Parameters<Engine['transformNow']>[0]): Promise<TransformRunResult> {
    if (activeTransform) {
      return Promise.reject(new EngineError('BUSY', 'Transforms are already running. Wait for them to finish (see Run history), then try again.', { retryable: true }));
    }
    const promise = runTransformOnce(args).finally(() => {
      activeTransform = null;
    });
    activeTransform = promise;
    return promise;
  }

  /** For the daemon and the schedule: wait for a running transform instead of failing with BUSY. */
  async function transformWhenFree(args: Parameters<Engine['transformNow']>[0]): Promise<TransformRunResult | null> {
    while (activeTransform) await activeTransform.catch(() => undefined);
    if (transformAbort.signal.aborted) return null;
    return transformNow(args);
  }

  // ---- daemon and schedule ----------------------------------------------------------------------
  let daemon: { follow: boolean; transforms: boolean } | null = null;
  let transformDaemon: TransformDaemon | null = null;
  let scheduleTimer: NodeJS.Timeout | null = null;
  let nextScheduledAt: string | null = null;

  function startDaemonParts(): void {
    if (!daemon || isPaused) return;
    if (daemon.transforms) {
      transformDaemon = new TransformDaemon(
        async () => {
          await transformWhenFree({ trigger: 'daemon', exclude: ['config.materialized:view'] });
        },
        { minIntervalMs: Math.max(0, config.transform.intervalSeconds) * 1000, debounceMs: 2000 },
      );
    }
    if (daemon.follow) {
      startFollow(() => transformDaemon?.markDirty());
      // Build or refresh the tables once at start; later runs follow new rows.
      transformDaemon?.markDirty();
    } else {
      armSchedule();
    }
  }

  async function stopDaemonParts(): Promise<void> {
    if (scheduleTimer) clearTimeout(scheduleTimer);
    scheduleTimer = null;
    nextScheduledAt = null;
    await stopFollow();
    const td = transformDaemon;
    transformDaemon = null;
    await td?.stop();
  }

  function armSchedule(): void {
    if (scheduleTimer) clearTimeout(scheduleTimer);
    scheduleTimer = null;
    nextScheduledAt = null;
    if (!daemon || daemon.follow || isPaused) return;
    const schedule = store.settings.get().schedule;
    if (schedule.kind !== 'interval') return;
    const ms = schedule.minutes * (o.minuteMs ?? 60_000);
    nextScheduledAt = new Date(Date.now() + ms).toISOString();
    scheduleTimer = setTimeout(() => {
      scheduleTimer = null;
      scheduledTick()
        .catch((error: unknown) => logger.error('scheduled sync failed', { error }))
        .finally(() => armSchedule());
    }, ms);
    scheduleTimer.unref?.();
  }

  async function scheduledTick(): Promise<void> {
    if (isPaused || !config.couch) return;
    await ensureDemo();
    const couch = couchConnection();
    // "When online": a laptop without a link skips the run instead of filling the history with failures.
    if (!(await isReachable(couch.url))) {
      const since = new Date().toISOString();
      const error: WireError = { code: 'COUCH_UNREACHABLE', message: `${safeUrl(couch.url)} cannot be reached: the scheduled sync waits for the next slot.`, retryable: true };
      board.setAll(() => ({ kind: 'backing-off', since, error, ...(nextScheduledAt ? { retryAt: nextScheduledAt } : {}) }));
      pushStatus(true);
      logger.info('scheduled sync skipped: offline', { url: safeUrl(couch.url) });
      return;
    }
    if (activeSync) return;
    const result = await syncNow({ trigger: 'schedule' });
    const copied = result.databases.reduce((n, d) => n + d.docs + d.deletes, 0);
    if (daemon?.transforms && copied > 0) await transformWhenFree({ trigger: 'schedule', exclude: ['config.materialized:view'] });
  }

  // ---- settings ---------------------------------------------------------------------------------
  /** What is in effect: flags and environment show through (they win over saved settings). */
  function settingsView(): SettingsView {
    const s = store.settings.get();
    let postgres: SettingsView['postgres'];
    if (config.postgres.kind === 'external') {
      const url = new URL(config.postgres.url);
      postgres = {
        kind: 'external',
        host: url.hostname,
        port: Number(url.port || 5432),
        database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
        username: decodeURIComponent(url.username),
        hasPassword: url.password !== '' || secret(SECRET_NAMES.postgresPassword) !== null,
        ssl: ['require', 'verify-ca', 'verify-full'].includes(url.searchParams.get('sslmode') ?? '') || url.searchParams.get('ssl') === 'true',
      };
    } else {
      postgres = { kind: 'embedded', port: pgState?.embedded?.port ?? (s.postgres.kind === 'embedded' ? s.postgres.port : null) };
    }
    return {
      isSetupComplete: s.isSetupComplete || config.couch !== null,
      couch: {
        url: config.couch?.url ?? s.couch.url,
        username: config.couch ? (config.couch.username ?? null) : s.couch.username,
        hasPassword: Boolean(config.couch?.password) || secret(SECRET_NAMES.couchPassword) !== null,
        databases: config.couch?.databases ?? s.couch.databases,
        trustedFingerprint256: config.couch ? (config.couch.trustedFingerprint256 ?? null) : s.couch.trustedFingerprint256,
      },
      postgres,
      schema: config.schema,
      table: config.table,
      pipeline: config.pipeline,
      schedule: s.schedule,
      advanced: { batchSize: config.batchSize, threads: config.transform.threads, transformBatchSize: config.transform.batchSize },
      language: s.language,
      isDemo: s.isDemo,
    };
  }

  function savePatch(patch: ParsedArgs<'settings.update'>, extra: Partial<SavedSettings> = {}): void {
    const next: Partial<SavedSettings> = { ...extra };
    if (patch.couch) {
      const couch: Partial<SavedSettings['couch']> = {};
      if (patch.couch.url !== undefined) {
        // Credentials typed into the URL move to their own fields: the URL is shown, the password never is.
        const parsed = parseUrl(patch.couch.url);
        if (parsed.username && patch.couch.username === undefined) couch.username = decodeURIComponent(parsed.username);
        if (parsed.password && patch.couch.password === undefined) store.secrets.set(SECRET_NAMES.couchPassword, decodeURIComponent(parsed.password));
        parsed.username = '';
        parsed.password = '';
        couch.url = parsed.toString().replace(/\/+$/, '');
        // A trusted certificate belongs to one server.
        if (couch.url !== store.settings.get().couch.url) couch.trustedFingerprint256 = null;
      }
      if (patch.couch.trustedFingerprint256 !== undefined) couch.trustedFingerprint256 = patch.couch.trustedFingerprint256?.toUpperCase() ?? null;
      if (patch.couch.username !== undefined) couch.username = patch.couch.username || null;
      if (patch.couch.databases !== undefined) couch.databases = patch.couch.databases;
      if (patch.couch.password !== undefined) store.secrets.set(SECRET_NAMES.couchPassword, patch.couch.password === '' ? null : patch.couch.password);
      next.couch = { ...store.settings.get().couch, ...couch };
    }
    if (patch.postgres) {
      if (patch.postgres.kind === 'embedded') next.postgres = { kind: 'embedded', port: null };
      else {
        const { password, ...rest } = patch.postgres;
        next.postgres = rest;
        if (password !== undefined) store.secrets.set(SECRET_NAMES.postgresPassword, password === '' ? null : password);
      }
    }
    if (patch.schema !== undefined) next.schema = patch.schema;
    if (patch.table !== undefined) next.table = patch.table;
    if (patch.pipeline !== undefined) next.pipeline = patch.pipeline;
    if (patch.schedule !== undefined) next.schedule = patch.schedule;
    if (patch.advanced !== undefined) next.advanced = { ...store.settings.get().advanced, ...patch.advanced };
    if (patch.language !== undefined) next.language = patch.language;
    store.settings.update(next);
  }

  /** Re-derive the config from saved settings; restart what depends on a changed part. */
  function applySettings(emit = true): Promise<void> {
    const before = config;
    config = reresolve(store.settings.get());
    registerSecret(config.couch?.password);
    const isPgChanged = JSON.stringify(before.postgres) !== JSON.stringify(config.postgres);
    seedStatus();
    const work = (async () => {
      if (isPgChanged) await stopPostgres();
      if (daemon && !daemon.follow) armSchedule();
    })();
    if (emit) {
      bus.emit('settings.changed', {});
      pushStatus(true);
    }
    return work;
  }

  // ---- handlers ---------------------------------------------------------------------------------
  async function connectionInfo(): Promise<ConnectionInfo> {
    const state = await getPostgres().catch((error: unknown) => {
      throw translatePgError(error, 'reading the connection details');
    });
    const url = new URL(state.url);
    url.password = '';
    const database = databaseName(state.url);
    return {
      host: url.hostname,
      port: Number(url.port || 5432),
      database,
      username: decodeURIComponent(url.username),
      url: url.toString(),
      passwordHint: state.embedded
        ? `Kept in ${state.embedded.passwordFile} (the "password" value), readable only by your user. The embedded server listens on this computer only (127.0.0.1).`
        : 'The password configured for this server (in Settings, or --postgres-url / POSTGRES_PASSWORD); it is never shown here.',
      schema: config.schema,
    };
  }

  async function withPool<T>(what: string, f: (pool: pg.Pool) => Promise<T>): Promise<T> {
    let pool: pg.Pool;
    try {
      pool = await getPool();
    } catch (error) {
      throw translatePgError(error, what);
    }
    try {
      return await f(pool);
    } catch (error) {
      throw translatePgError(error, what);
    }
  }

  const handlers: HandlerTable = {
    'app.info': async () => info,
    'settings.get': async () => settingsView(),
    'settings.update': async (patch) => {
      const before = store.settings.get();
      savePatch(patch);
      try {
        reresolve(store.settings.get());
      } catch (error) {
        // Keep the last working settings rather than a combination the engine cannot run with.
        store.settings.update(before);
        throw error;
      }
      await applySettings();
      return settingsView();
    },
    'setup.testCouch': async (c) => modules.probeCouch(c, { timeoutMs: 15_000 }),
    'setup.testPostgres': async ({ postgres }) => {
      if (postgres.kind === 'embedded') {
        if (config.postgres.kind !== 'embedded') {
          // Switching to embedded: start it now so the wizard can show it works.
          const handle = await modules.startEmbeddedPostgres(o.dataDir, { logger });
          try {
            return await modules.probePostgres(handle.url);
          } finally {
            await handle.stop();
          }
        }
        return modules.probePostgres((await getPostgres()).url);
      }
      const url = configFromSaved({ ...store.settings.get(), postgres: { ...postgres } }, config).postgres;
      if (url.kind !== 'external') throw new EngineError('INTERNAL', 'unexpected postgres setting');
      return modules.probePostgres(withPassword(url.url, postgres.password ?? secret(SECRET_NAMES.postgresPassword)));
    },
    'setup.estimate': async ({ databases, ...c }) => {
      await modules.checkDatabases(c, databases, { timeoutMs: 15_000 });
      let docs = 0;
      let bytes = 0;
      for (const name of databases) {
        const response = await modules.couchGet(c, `/${encodeURIComponent(name)}`, { timeoutMs: 15_000 });
        const dbInfo = response.json as { doc_count?: number; doc_del_count?: number; sizes?: { external?: number; file?: number }; data_size?: number; disk_size?: number } | null;
        // The changes feed carries deleted documents too; each becomes a row.
        docs += (dbInfo?.doc_count ?? 0) + (dbInfo?.doc_del_count ?? 0);
        const size = dbInfo?.sizes?.external ?? dbInfo?.data_size ?? dbInfo?.sizes?.file ?? dbInfo?.disk_size ?? 0;
        // Servers that report no size (pouchdb-server): a CHT document averages about 1.7 KB.
        bytes += size > 0 ? size : ((dbInfo?.doc_count ?? 0) + (dbInfo?.doc_del_count ?? 0)) * 1700;
      }
      // jsonb plus the three indexes takes about twice CouchDB's compacted JSON; the pipeline's tables add a little more.
      // 1,500 docs/s is below what we measured locally (~4,000) to allow for a remote server on a slow link.
      return { docs, bytes, diskBytes: Math.round(bytes * 2.5), seconds: Math.ceil(docs / 1500) };
    },
    'setup.complete': async (args) => {
      savePatch(args, { isSetupComplete: true, isDemo: false });
      if (demo) {
        await demo.stop().catch(() => undefined);
        demo = null;
      }
      await applySettings();
      return settingsView();
    },
    'setup.useDemo': async () => {
      const handle = demo ?? (await startDemo());
      store.settings.update({
        couch: { url: handle.url, username: handle.username, databases: handle.databases, trustedFingerprint256: null },
        isDemo: true,
        isSetupComplete: true,
      });
      store.secrets.set(SECRET_NAMES.couchPassword, handle.password);
      await applySettings();
      return settingsView();
    },
    'sync.status': async () => board.list(),
    'sync.runNow': async ({ databases, timeoutSeconds }) => syncNow({ trigger: 'manual', ...(databases ? { databases } : {}), ...(timeoutSeconds ? { timeoutSeconds } : {}) }),
    'sync.pause': async () => {
      isPaused = true;
      activeSync?.abort.abort();
      await stopDaemonParts();
      const since = new Date().toISOString();
      board.setAll(() => ({ kind: 'paused', since }));
      for (const row of board.list()) bus.emit('sync.stateChanged', { database: row.database, state: row.state });
      pushStatus(true);
      return board.list();
    },
    'sync.resume': async () => {
      if (isPaused) {
        isPaused = false;
        const since = new Date().toISOString();
        board.setAll((db) => (board.get(db)?.state.kind === 'paused' ? { kind: 'idle', since } : null));
        for (const row of board.list()) bus.emit('sync.stateChanged', { database: row.database, state: row.state });
        startDaemonParts();
        pushStatus(true);
      }
      return board.list();
    },
    'transform.runNow': async (args) => transformNow({ trigger: 'manual', ...args }),
    'runs.list': async (filter) => store.runs.list(filter),
    'runs.get': async ({ id }) => {
      const detail = store.runs.get(id);
      if (!detail) throw new EngineError('NOT_FOUND', `There is no run #${id}.`);
      return detail;
    },
    'runs.diagnostics': async ({ id }) => {
      let serverVersion: string | null = null;
      if (pgState) serverVersion = await pgState.pool.query<{ v: string }>("select current_setting('server_version') as v").then((r) => r.rows[0]?.v ?? null, () => null);
      const report = diagnosticsReport({
        app: { version: info.version, host: info.host, platform: process.platform, arch: process.arch, node: process.versions.node, electron: o.electronVersion ?? null },
        settings: settingsView(),
        postgres: { kind: config.postgres.kind, serverVersion },
        status: board.list(),
        recent: store.runs.list({ limit: 20 }),
        detail: id !== undefined ? store.runs.get(id) : null,
      });
      return { report };
    },
    'data.tables': async () => withPool('listing the tables', (pool) => listTables(pool, config.schema)),
    'data.preview': async (args) => withPool(`reading ${args.table}`, (pool) => previewTable(pool, config.schema, args)),
    'data.exportCsv': async (args) =>
      withPool(`exporting ${args.table}`, async (pool) => {
        const chunks: string[] = [];
        const result = await exportTableCsv(pool, config.schema, { ...args, maxRows: MAX_EXPORT_ROWS, maxBytes: MAX_INLINE_EXPORT_BYTES }, (chunk) => void chunks.push(chunk));
        return { fileName: result.fileName, csv: chunks.join(''), rows: result.rows };
      }),
    'data.connection': async () => connectionInfo(),
    'data.chart': async ({ chart }) => {
      let pool: pg.Pool | null = null;
      if (chart !== 'sync-throughput') pool = await getPool().catch(() => null);
      return withPool(`drawing the ${chart} chart`, () => chartData(chart, { pool, schema: config.schema, throughput: (since) => store.runs.throughput(since) }));
    },
  };

  seedStatus();
  // The demo server (a saved demo setup) starts when a sync first needs it, not for `status` or `transform`.

  return {
    info,
    handlers,
    events: bus,
    syncNow,
    transformNow,
    exportCsv: (args, write) => withPool(`exporting ${args.table}`, (pool) => exportTableCsv(pool, config.schema, { ...args, maxRows: MAX_EXPORT_ROWS }, write)),
    startDaemon(options) {
      daemon = { ...options };
      void stopDaemonParts().then(() => startDaemonParts());
    },
    async stopDaemon() {
      daemon = null;
      await stopDaemonParts();
    },
    postgresUrl() {
      if (pgState) return pgState.url;
      if (config.postgres.kind === 'external') return withPassword(config.postgres.url, secret(SECRET_NAMES.postgresPassword));
      throw new EngineError('NOT_CONFIGURED', 'The embedded PostgreSQL is not started yet: call ensurePostgres() first.');
    },
    async ensurePostgres() {
      try {
        return (await getPostgres()).url;
      } catch (error) {
        throw translatePgError(error, 'starting PostgreSQL');
      }
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      daemon = null;
      activeSync?.abort.abort();
      transformAbort.abort();
      await stopDaemonParts();
      await activeSync?.promise.catch(() => undefined);
      await activeTransform?.catch(() => undefined);
      if (statusTimer) clearTimeout(statusTimer);
      await stopPostgres();
      await demoStarting;
      await demo?.stop().catch(() => undefined);
      demo = null;
      store.close();
    },
  };
}

/**
 * The default re-resolution after the UI saved settings: saved settings and the
 * environment, as at startup, plus whatever the startup config set differently
 * (command-line flags, or a config passed in by the caller) — flags keep winning
 * over saved settings for the whole life of the process.
 */
function savedOverStartup(
  startup: EngineConfig,
  plain: (saved: SavedSettings) => EngineConfig,
  savedAtStart: SavedSettings,
  logger: Logger,
): (saved: SavedSettings) => EngineConfig {
  const keys = ['couch', 'postgres', 'schema', 'table', 'batchSize', 'maxBatchBytes', 'pipeline', 'transform'] as const;
  const overrides: Partial<EngineConfig> = {};
  try {
    const base = plain(savedAtStart);
    for (const key of keys) {
      if (JSON.stringify(startup[key]) !== JSON.stringify(base[key])) (overrides as Record<string, unknown>)[key] = startup[key];
    }
  } catch (error) {
    // The saved settings alone do not resolve: everything in the startup config stands.
    logger.debug('saved settings alone do not resolve; keeping the startup configuration', { error });
    for (const key of keys) (overrides as Record<string, unknown>)[key] = startup[key];
  }
  return (saved) => ({ ...plain(saved), ...overrides, dataDir: startup.dataDir });
}

/** The connection part of the couch config, passing through whatever else it carries (e.g. a pinned certificate). */
function couchTarget(couch: { url: string; username?: string; password?: string; databases: string[] }): { url: string; username?: string; password?: string } {
  const { databases: _databases, ...target } = couch;
  return target;
}

function summaryOf(detail: RunSummary): RunSummary {
  const { id, kind, trigger, outcome, startedAt, finishedAt, count, errorCount, summary } = detail;
  return { id, kind, trigger, outcome, startedAt, finishedAt, count, errorCount, summary };
}

/** The run's outcome from its databases' outcomes, so the top line never contradicts the rows. */
function normaliseOutcome(result: Omit<SyncRunResult, 'runId'>): SyncRunResult['outcome'] {
  if (result.outcome === 'cancelled') return 'cancelled';
  return combineOutcomes(result.databases.map((d) => d.outcome));
}


function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new EngineError('INVALID_ARGUMENT', `"${safeUrl(text).slice(0, 80)}" is not a URL. Enter the address of the CHT instance, e.g. https://cht.example.org.`, { details: { field: 'couch.url' } });
  }
}

async function isReachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { method: 'GET', signal: AbortSignal.timeout(8000), headers: { accept: 'application/json' } });
    return true;
  } catch {
    return false;
  }
}

