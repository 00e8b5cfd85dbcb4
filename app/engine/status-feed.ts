import type { DatabaseStatus, RunSummary, SyncState } from '../contract';
import type { EngineContext } from './engine-context';
import type { SyncEvent } from './modules';
import type { EngineSettings } from './settings';
import type { Service } from './services/service';
import { shortSeq, SyncStatusBoard } from './sync-status';

/**
 * The live per-database status: the board seeded from the store (checkpoints,
 * recent runs), moved by the sync's events, pushed to the UI as
 * `sync.statusChanged` a few times a second at most.
 */
export class StatusFeed implements Service {
  readonly name = 'status';
  readonly board: SyncStatusBoard;
  isPaused = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly syncListeners: ((event: SyncEvent) => void)[] = [];

  constructor(
    private readonly ctx: EngineContext,
    private readonly settings: EngineSettings,
  ) {
    this.board = new SyncStatusBoard((database) => {
      const couch = settings.current.couch;
      return couch ? ctx.modules.sourceFor(couch.url, database) : database;
    });
    settings.onApplied(() => this.seed());
  }

  async start(): Promise<void> {
    this.seed();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  list(): DatabaseStatus[] {
    return this.board.list();
  }

  /** The configured databases, each seeded with its checkpoint and last runs. */
  seed(): void {
    const { store } = this.ctx;
    const recent = store.runs.list({ kind: 'sync', limit: 20 });
    const details = recent.map((r) => store.runs.get(r.id)).filter((d) => d !== null);
    this.board.configure(this.settings.current.couch?.databases ?? [], (database, source) => {
      const checkpoint = store.checkpoints.get(source);
      const lastDetail = details.find((d) => d.databases?.some((x) => x.database === database));
      const lastRow = lastDetail?.databases?.find((x) => x.database === database);
      const success = details.find((d) =>
        d.databases?.some((x) => x.database === database && (x.outcome === 'done' || x.reachedEnd)),
      );
      return {
        seqShort: checkpoint ? shortSeq(checkpoint.seq) : null,
        pending: checkpoint?.pending ?? null,
        lastRun:
          lastDetail && lastRow
            ? { runId: lastDetail.id, outcome: lastRow.outcome, finishedAt: lastDetail.finishedAt }
            : null,
        lastSuccessAt: success?.finishedAt ?? null,
        ...(this.isPaused ? { state: { kind: 'paused', since: new Date().toISOString() } satisfies SyncState } : {}),
      };
    });
  }

  /** Coalesces status pushes: progress events arrive per batch, the UI needs a few per second. */
  push(now = false): void {
    if (now) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.ctx.bus.emit('sync.statusChanged', this.board.list());
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.ctx.bus.emit('sync.statusChanged', this.board.list());
    }, 250);
  }

  /** Every database's state changes at once (pause, resume, offline), each announced. */
  setAll(state: (database: string) => SyncState | null): void {
    this.board.setAll(state);
    for (const row of this.board.list())
      this.ctx.bus.emit('sync.stateChanged', { database: row.database, state: row.state });
    this.push(true);
  }

  /** Every sync event as the sync emits it (the metrics count batches and refused documents). */
  onEachSyncEvent(listener: (event: SyncEvent) => void): void {
    this.syncListeners.push(listener);
  }

  onSyncEvent(event: SyncEvent, onBatch?: (docs: number) => void): void {
    const { bus, store } = this.ctx;
    try {
      for (const listener of this.syncListeners) listener(event);
      if (event.type === 'state') {
        if (this.board.setState(event.database, event.state))
          bus.emit('sync.stateChanged', { database: event.database, state: event.state });
        this.push(true);
      } else if (event.type === 'progress') {
        const { type: _type, ...progress } = event;
        this.board.progress(progress);
        bus.emit('sync.progress', progress);
        this.push();
      } else if (event.type === 'batch') {
        const row = this.board.get(event.database);
        if (row) {
          const checkpoint = store.checkpoints.get(row.source);
          this.board.checkpoint(event.database, checkpoint?.seq ?? null, checkpoint?.pending ?? null);
        }
        if (event.docs > 0) onBatch?.(event.docs);
        this.push();
      }
    } catch (error) {
      this.ctx.logger.warn('sync event handling failed', { error });
    }
  }

  runStarted(id: number): void {
    const detail = this.ctx.store.runs.get(id);
    if (detail) this.ctx.bus.emit('run.started', summaryOf(detail));
  }
}

export function summaryOf(detail: RunSummary): RunSummary {
  const { id, kind, trigger, outcome, startedAt, finishedAt, count, errorCount, summary } = detail;
  return { id, kind, trigger, outcome, startedAt, finishedAt, count, errorCount, summary };
}
