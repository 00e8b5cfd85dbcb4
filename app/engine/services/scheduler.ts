import type { WireError } from '../../contract';
import { safeUrl } from '../../core/redact';
import type { EngineContext } from '../engine-context';
import type { SyncRunner } from '../runners/sync-runner';
import type { TransformRunner } from '../runners/transform-runner';
import type { EngineSettings } from '../settings';
import type { StatusFeed } from '../status-feed';
import { TransformDaemon } from '../transform-daemon';
import type { DemoService } from './demo-service';
import type { Service } from './service';

export interface DaemonOptions {
  /** `cht-sync run` / `sync`: follow the feeds continuously; false: the desktop schedule. */
  follow: boolean;
  /** Run the incremental models after new rows land. */
  transforms: boolean;
}

/**
 * The daemon and the schedule. `follow: true` = `cht-sync run`: continuous sync,
 * and the incremental models after batches with new rows (debounced, at most one
 * run per DATAEMON_INTERVAL, never two at once). `follow: false` = the desktop
 * schedule: every N minutes from the saved settings, skipped while offline.
 * Paused with the sync; re-armed when the settings change.
 */
export class Scheduler implements Service {
  readonly name = 'scheduler';
  private daemon: DaemonOptions | null = null;
  private transformDaemon: TransformDaemon | null = null;
  private timer: NodeJS.Timeout | null = null;
  private nextAt: string | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly settings: EngineSettings,
    private readonly status: StatusFeed,
    private readonly demo: DemoService,
    private readonly sync: SyncRunner,
    private readonly transforms: TransformRunner,
  ) {
    settings.onApplied(() => {
      if (this.daemon && !this.daemon.follow) this.arm();
    });
  }

  async start(): Promise<void> {
    // Started by startDaemon(): a one-off command runs none.
  }

  async stop(): Promise<void> {
    this.daemon = null;
    await this.stopParts();
  }

  startDaemon(options: DaemonOptions): void {
    this.daemon = { ...options };
    void this.stopParts().then(() => this.startParts());
  }

  async stopDaemon(): Promise<void> {
    this.daemon = null;
    await this.stopParts();
  }

  /** Starts what the daemon options ask for, unless the sync is paused. */
  startParts(): void {
    const daemon = this.daemon;
    if (!daemon || this.status.isPaused) return;
    if (daemon.transforms) {
      this.transformDaemon = new TransformDaemon(
        async () => {
          await this.transforms.whenFree({ trigger: 'daemon', exclude: ['config.materialized:view'] });
        },
        { minIntervalMs: Math.max(0, this.settings.current.transform.intervalSeconds) * 1000, debounceMs: 2000 },
      );
    }
    if (daemon.follow) {
      this.sync.startFollow(() => this.transformDaemon?.markDirty());
      // Build or refresh the tables once at start; later runs follow new rows.
      this.transformDaemon?.markDirty();
    } else {
      this.arm();
    }
  }

  async stopParts(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextAt = null;
    await this.sync.stopFollow();
    const td = this.transformDaemon;
    this.transformDaemon = null;
    await td?.stop();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextAt = null;
    if (!this.daemon || this.daemon.follow || this.status.isPaused) return;
    const schedule = this.ctx.store.settings.get().schedule;
    if (schedule.kind !== 'interval') return;
    const ms = schedule.minutes * this.ctx.minuteMs;
    this.nextAt = new Date(Date.now() + ms).toISOString();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick()
        .catch((error: unknown) => this.ctx.logger.error('scheduled sync failed', { error }))
        .finally(() => this.arm());
    }, ms);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.status.isPaused || !this.settings.current.couch) return;
    await this.demo.ensure();
    const couch = this.settings.couchConnection();
    // "When online": a laptop without a link skips the run instead of filling the history with failures.
    if (!(await isReachable(couch.url))) {
      const since = new Date().toISOString();
      const error: WireError = {
        code: 'COUCH_UNREACHABLE',
        message: `${safeUrl(couch.url)} cannot be reached: the scheduled sync waits for the next slot.`,
        retryable: true,
      };
      const retryAt = this.nextAt;
      this.status.board.setAll(() => ({ kind: 'backing-off', since, error, ...(retryAt ? { retryAt } : {}) }));
      this.status.push(true);
      this.ctx.logger.info('scheduled sync skipped: offline', { url: safeUrl(couch.url) });
      return;
    }
    if (this.sync.isRunning) return;
    const result = await this.sync.syncNow({ trigger: 'schedule' });
    const copied = result.databases.reduce((n, d) => n + d.docs + d.deletes, 0);
    if (this.daemon?.transforms && copied > 0 && this.ctx.store.settings.get().advanced.transformAfterSync !== false)
      await this.transforms.whenFree({ trigger: 'schedule', exclude: ['config.materialized:view'] });
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
