import { registerSecret } from '../../core/redact';
import { addDemoActivity } from '../../demo';
import { couchOrigin, saveBoundSecret, SECRET_NAMES } from '../../store';
import type { EngineContext } from '../engine-context';
import type { DemoCouchHandle } from '../modules';
import type { EngineSettings } from '../settings';
import type { Service } from './service';

/**
 * The demo CouchDB server (synthetic CHT data): started by `setup.useDemo`, and
 * again on the same port with the same data when a saved demo setup first needs it
 * after a restart (a sync, not `status` or `transform`).
 */
export class DemoService implements Service {
  readonly name = 'demo';
  private handle: DemoCouchHandle | null = null;
  private starting: Promise<void> | null = null;
  private activity: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly settings: EngineSettings,
  ) {}

  async start(): Promise<void> {
    // Lazy: see ensure().
  }

  get current(): DemoCouchHandle | null {
    return this.handle;
  }

  /** The running demo server, or a new one. */
  async run(port?: number): Promise<DemoCouchHandle> {
    if (this.handle) return this.handle;
    const handle = await this.ctx.modules.startDemoCouch({
      dataDir: this.ctx.dataDir,
      logger: this.ctx.logger.child({ part: 'demo' }),
      ...(port ? { port } : {}),
    });
    registerSecret(handle.password);
    this.handle = handle;
    return handle;
  }

  /** A saved demo setup needs its server running again after a restart (same port, same data). */
  ensure(): Promise<void> {
    const { store } = this.ctx;
    const saved = store.settings.get();
    if (!saved.isDemo || this.handle || !saved.couch.url) return Promise.resolve();
    if (!this.starting) {
      const port = Number(new URL(saved.couch.url).port) || undefined;
      this.starting = this.run(port)
        .then((handle) => {
          if (handle.url !== saved.couch.url || handle.username !== saved.couch.username) {
            store.settings.update({ couch: { ...saved.couch, url: handle.url, username: handle.username } });
          }
          saveBoundSecret(store.secrets, SECRET_NAMES.couchPassword, couchOrigin(handle.url), handle.password);
          void this.settings.apply();
        })
        .catch((error: unknown) => this.ctx.logger.error('the demo CouchDB server could not start', { error }))
        .finally(() => {
          this.starting = null;
        });
    }
    return this.starting;
  }

  /** The demo is replaced by a real setup: its server stops (its data stays for another try). */
  async release(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.stop().catch(() => undefined);
  }

  /**
   * Demo activity: `count` new, edited and deleted documents every `everyMs` on the demo server,
   * so the live feed, the daemon's incremental models and the dashboard visibly move.
   * Failures are logged, never fatal.
   */
  startActivity(everyMs = 20_000, count = 12): void {
    if (this.activity) return;
    const { logger } = this.ctx;
    this.activity = setInterval(() => {
      const handle = this.handle;
      if (!handle) return;
      addDemoActivity({ url: handle.url, username: handle.username, password: handle.password }, count).then(
        (r) => logger.info('demo activity', { ...r }),
        (error: unknown) =>
          logger.warn('demo activity failed', { error: error instanceof Error ? error.message : String(error) }),
      );
    }, everyMs);
    this.activity.unref();
  }

  async stop(): Promise<void> {
    if (this.activity) clearInterval(this.activity);
    this.activity = null;
    await this.starting;
    await this.release();
  }
}
