import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelRunResult, RunSummary, SyncStateKind } from '../../contract';
import { EngineError } from '../../core/engine-error';
import type { Logger } from '../../core/logger';
import { DURATION_BUCKETS, MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from '../../core/metrics-registry';
import type { SyncEvent } from '../modules';
import type { EngineEvents } from '../types';
import type { Service } from './service';

const STATE_KINDS: readonly SyncStateKind[] = [
  'idle',
  'connecting',
  'catching-up',
  'live',
  'backing-off',
  'paused',
  'error',
];
const TRANSFORM_OUTCOMES = ['done', 'partial', 'failed', 'cancelled', 'coalesced'] as const;

/**
 * cht-sync's metrics, named as Prometheus's conventions say and fed from the engine's events:
 * the sync's per-batch events (documents, refused documents, batch time) and the contract
 * events (state changes, finished runs, finished models). See the top README for each one.
 */
export class SyncMetrics {
  readonly registry = new MetricsRegistry();
  private readonly documents = this.registry.counter(
    'cht_sync_documents_synced_total',
    'Documents written to the raw table (tombstones of deleted documents included), per CouchDB database.',
    ['database'],
  );
  private readonly deleted = this.registry.counter(
    'cht_sync_deleted_documents_synced_total',
    'Tombstones of deleted documents written to the raw table, per CouchDB database.',
    ['database'],
  );
  private readonly bytes = this.registry.counter(
    'cht_sync_synced_bytes_total',
    'Bytes of document JSON written to the raw table, per CouchDB database.',
    ['database'],
  );
  private readonly refused = this.registry.counter(
    'cht_sync_refused_documents_total',
    'Documents left out because they could not be stored (PostgreSQL refused them, or they were unusable); each is named in the run history.',
    ['database'],
  );
  private readonly batches = this.registry.counter(
    'cht_sync_batches_total',
    'Batches committed to PostgreSQL (rows and feed position in one transaction), per CouchDB database.',
    ['database'],
  );
  private readonly batchSeconds = this.registry.histogram(
    'cht_sync_batch_duration_seconds',
    'Time to write one batch to PostgreSQL, per CouchDB database.',
    ['database'],
  );
  private readonly pending = this.registry.gauge(
    'cht_sync_pending_documents',
    'Changes CouchDB reports as not yet read (estimated from document counts when the server reports none), per CouchDB database.',
    ['database'],
  );
  private readonly lastBatch = this.registry.gauge(
    'cht_sync_last_batch_timestamp_seconds',
    'Unix time of the last batch committed (data and feed position), per CouchDB database.',
    ['database'],
  );
  private readonly lastSuccess = this.registry.gauge(
    'cht_sync_last_success_timestamp_seconds',
    'Unix time this database was last known up to date: a batch committed or the end of its feed reached.',
    ['database'],
  );
  private readonly state = this.registry.gauge(
    'cht_sync_database_state',
    'The sync state of each CouchDB database: 1 for its current state, 0 for the others.',
    ['database', 'state'],
  );
  private readonly syncRuns = this.registry.counter(
    'cht_sync_sync_runs_total',
    'Sync runs finished, by outcome (a continuous sync finishes when it stops or fails).',
    ['outcome'],
  );
  private readonly transformRuns = this.registry.counter(
    'cht_sync_transform_runs_total',
    'Transform runs finished, by outcome; "coalesced": another process had already run the models on every row.',
    ['outcome'],
  );
  private readonly lastTransform = this.registry.gauge(
    'cht_sync_last_transform_success_timestamp_seconds',
    'Unix time the last transform run finished with every model built.',
  );
  private readonly modelSeconds = this.registry.histogram(
    'cht_sync_model_duration_seconds',
    'Time to build one model, per model.',
    ['model'],
    DURATION_BUCKETS,
  );
  private readonly modelFailures = this.registry.counter(
    'cht_sync_model_failures_total',
    'Model builds that failed, per model.',
    ['model'],
  );
  private readonly testFailures = this.registry.counter(
    'cht_sync_test_failures_total',
    'dbt data tests and unit tests that failed (or could not run), per test; a test that passes shows at 0.',
    ['test'],
  );
  private readonly modelSkips = this.registry.counter(
    'cht_sync_model_skipped_total',
    'Model builds skipped because an ancestor failed or the run was cancelled, per model.',
    ['model'],
  );
  private readonly info = this.registry.gauge('cht_sync_build_info', 'Always 1; the version of cht-sync.', ['version']);
  private readonly rss = this.registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.');
  private readonly heap = this.registry.gauge('nodejs_heap_used_bytes', 'V8 heap in use, in bytes.');
  private readonly cpu = this.registry.counter(
    'process_cpu_seconds_total',
    'User and system CPU time spent, in seconds.',
  );
  private readonly startTime = this.registry.gauge('process_start_time_seconds', 'Unix time the process started.');
  private cpuSeen = 0;
  private syncError: string | null = null;
  private transformError: string | null = null;

  constructor(version: string) {
    this.info.set({ version }, 1);
    this.startTime.set({}, Math.round(Date.now() / 1000 - process.uptime()));
    for (const outcome of TRANSFORM_OUTCOMES) this.transformRuns.touch({ outcome });
    this.registry.onCollect(() => {
      const mem = process.memoryUsage();
      this.rss.set({}, mem.rss);
      this.heap.set({}, mem.heapUsed);
      const usage = process.cpuUsage();
      const total = (usage.user + usage.system) / 1e6;
      this.cpu.inc({}, Math.max(0, total - this.cpuSeen));
      this.cpuSeen = Math.max(this.cpuSeen, total);
    });
  }

  /** Every configured database shows up at 0 before its first batch. */
  databases(names: readonly string[]): void {
    for (const database of names) {
      for (const c of [this.documents, this.deleted, this.bytes, this.refused, this.batches]) c.touch({ database });
    }
  }

  onSyncEvent(event: SyncEvent): void {
    const database = event.database;
    const now = Date.now() / 1000;
    if (event.type === 'batch') {
      this.documents.inc({ database }, event.docs);
      this.deleted.inc({ database }, event.deletes);
      this.bytes.inc({ database }, event.bytes);
      this.refused.inc({ database }, event.skipped);
      this.batches.inc({ database });
      this.batchSeconds.observe({ database }, event.seconds);
      this.lastBatch.set({ database }, now);
      this.lastSuccess.set({ database }, now);
      this.syncError = null;
    } else if (event.type === 'progress') {
      if (event.pending !== null) this.pending.set({ database }, event.pending);
    } else {
      for (const kind of STATE_KINDS) this.state.set({ database, state: kind }, kind === event.state.kind ? 1 : 0);
      if (event.state.kind === 'live') {
        this.lastSuccess.set({ database }, now);
        this.syncError = null;
      }
    }
  }

  /** A sync run finished (a continuous one finishes when it stops or fails). */
  onSyncRun(run: RunSummary): void {
    this.syncRuns.inc({ outcome: run.outcome });
    if (['failed', 'offline', 'refused'].includes(run.outcome))
      this.syncError = `sync run #${run.id} ${run.outcome}: ${run.summary}`;
  }

  /** `isCoalesced`: a transform run that found its work already done by another run (nothing ran). */
  onTransformRun(run: RunSummary, o: { isCoalesced?: boolean } = {}): void {
    this.transformRuns.inc({ outcome: o.isCoalesced ? 'coalesced' : run.outcome });
    if (run.outcome === 'done') this.lastTransform.set({}, Date.now() / 1000);
    this.transformError = run.outcome === 'failed' ? `transform run #${run.id} failed: ${run.summary}` : null;
  }

  /** Why the last cycle failed, until a later one succeeds (a batch commits, a feed goes live, a transform run builds). */
  get lastCycleError(): string | null {
    return this.syncError ?? this.transformError;
  }

  onModelFinished(model: ModelRunResult): void {
    if (model.resourceType === 'test' || model.resourceType === 'unit_test') {
      // Data tests and unit tests (cht-sync test / build): failures count, warnings do not.
      if (model.status === 'fail' || model.status === 'error') this.testFailures.inc({ test: model.model });
      else this.testFailures.touch({ test: model.model });
      return;
    }
    const labels = { model: model.model };
    if (model.status === 'success') this.modelSeconds.observe(labels, model.seconds);
    else if (model.status === 'error') {
      this.modelFailures.inc(labels);
      this.modelSeconds.observe(labels, model.seconds);
    } else if (model.status === 'skipped') this.modelSkips.inc(labels);
  }

  /** Subscribes to the contract events; returns the unsubscribe. */
  follow(events: EngineEvents): () => void {
    const offs = [
      // Transform runs are reported by the engine itself (onTransformRun: it knows a coalesced run).
      events.on('run.finished', (run) => (run.kind === 'sync' ? this.onSyncRun(run) : undefined)),
      events.on('transform.modelFinished', ({ model }) => this.onModelFinished(model)),
    ];
    return () => offs.forEach((off) => off());
  }
}

export interface ReadinessCheck {
  ok: boolean;
  /** Plain-language reasons, secret-free (shown to whoever can reach the port). */
  checks: Record<string, { ok: boolean; message?: string }>;
}

export interface MetricsServiceOptions {
  port: number;
  /** Default loopback; 0.0.0.0 in a container (--metrics-host). */
  host: string;
  metrics: SyncMetrics;
  /** /readyz: PostgreSQL reachable and the last cycle did not fail. */
  readiness: () => Promise<ReadinessCheck>;
  logger: Logger;
}

/**
 * The metrics and health endpoints of a headless service, on their own port (no token: they
 * carry counts and states, never documents, settings or secrets):
 *   GET /healthz  200 while the process runs (liveness)
 *   GET /readyz   200 when PostgreSQL answers and the last cycle did not fail, else 503 (readiness)
 *   GET /metrics  Prometheus text format
 */
export class MetricsService implements Service {
  readonly name = 'metrics';
  private server: http.Server | null = null;
  private boundUrl: string | null = null;

  constructor(private readonly o: MetricsServiceOptions) {}

  get url(): string | null {
    return this.boundUrl;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        const setting = '--metrics-port / CHT_SYNC_METRICS_PORT (and --metrics-host / CHT_SYNC_METRICS_HOST)';
        if (error.code === 'EADDRINUSE')
          reject(
            new EngineError(
              'CONFIG_INVALID',
              `The metrics port ${this.o.port} on ${this.o.host} is already in use. Choose another with ${setting}.`,
              { cause: error },
            ),
          );
        else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
          reject(
            new EngineError(
              'CONFIG_INVALID',
              `The metrics address ${this.o.host} is not one of this machine's. Check ${setting}.`,
              { cause: error },
            ),
          );
        else reject(error);
      });
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.boundUrl = `http://${host}:${address.port}`;
    this.o.logger.info('metrics and health endpoints listening', { url: this.boundUrl });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain; charset=utf-8', 'GET only\n');
    try {
      if (path === '/healthz')
        return send(200, 'application/json', JSON.stringify({ ok: true, uptimeSeconds: Math.round(process.uptime()) }));
      if (path === '/readyz') {
        const ready = await this.o.readiness();
        return send(ready.ok ? 200 : 503, 'application/json', JSON.stringify(ready));
      }
      if (path === '/metrics') return send(200, PROMETHEUS_CONTENT_TYPE, this.o.metrics.registry.expose());
      return send(404, 'text/plain; charset=utf-8', 'not found: /healthz, /readyz, /metrics\n');
    } catch (error) {
      this.o.logger.warn('metrics endpoint failed', { path, error });
      return send(500, 'text/plain; charset=utf-8', 'internal error\n');
    }
  }
}
