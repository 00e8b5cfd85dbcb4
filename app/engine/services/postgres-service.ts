import pg from 'pg';
import { EngineError } from '../../core/engine-error';
import { registerSecret } from '../../core/redact';
import type { EmbeddedPostgresHandle } from '../../postgres/embedded';
import { withPassword } from '../config';
import type { EngineContext } from '../engine-context';
import { translatePgError } from '../../postgres/pg-errors';
import type { EngineSettings } from '../settings';
import type { Service } from './service';

export interface PostgresState {
  url: string;
  pool: pg.Pool;
  embedded: EmbeddedPostgresHandle | null;
}

/**
 * The analytics database: the external server's pool, or the embedded server
 * started on first use (never for `status`) and stopped with the engine. A changed
 * PostgreSQL setting stops it; the next use starts the new one.
 */
export class PostgresService implements Service {
  readonly name = 'postgres';
  private state: PostgresState | null = null;
  private starting: Promise<PostgresState> | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly settings: EngineSettings,
  ) {
    settings.onApplied((before, after) =>
      JSON.stringify(before.postgres) !== JSON.stringify(after.postgres) ? this.stop() : undefined,
    );
  }

  async start(): Promise<void> {
    // Lazy: started by the first caller of get().
  }

  /** The running server, if any (diagnostics and the settings view never start one). */
  get current(): PostgresState | null {
    return this.state;
  }

  get(): Promise<PostgresState> {
    // Work that finishes after close() (a debounced transform, a status refresh) must not start a new server.
    if (this.ctx.closing.aborted) return Promise.reject(new EngineError('CANCELLED', 'The engine is shutting down.'));
    if (this.state) return Promise.resolve(this.state);
    if (!this.starting) {
      this.starting = this.open().then(
        (state) => {
          this.state = state;
          this.starting = null;
          return state;
        },
        (error: unknown) => {
          this.starting = null;
          throw error;
        },
      );
    }
    return this.starting;
  }

  async pool(): Promise<pg.Pool> {
    return (await this.get()).pool;
  }

  /** The pool, with driver errors (starting or querying) translated for `what`. */
  async withPool<T>(what: string, f: (pool: pg.Pool) => Promise<T>): Promise<T> {
    let pool: pg.Pool;
    try {
      pool = await this.pool();
    } catch (error) {
      throw translatePgError(error, what);
    }
    try {
      return await f(pool);
    } catch (error) {
      throw translatePgError(error, what);
    }
  }

  /** The URL the transforms and `psql` use: the running server's, or the configured external one. */
  url(): string {
    if (this.state) return this.state.url;
    const config = this.settings.current;
    if (config.postgres.kind === 'external')
      return withPassword(config.postgres.url, this.settings.postgresPasswordFor(config.postgres.url));
    throw new EngineError('NOT_CONFIGURED', 'The embedded PostgreSQL is not started yet: call ensurePostgres() first.');
  }

  async stop(): Promise<void> {
    const state = this.state ?? (await this.starting?.catch(() => null)) ?? null;
    this.state = null;
    if (!state) return;
    await state.pool.end().catch(() => undefined);
    await state.embedded
      ?.stop()
      .catch((error: unknown) => this.ctx.logger.warn('embedded postgres did not stop cleanly', { error }));
  }

  private async open(): Promise<PostgresState> {
    const { ctx, settings } = this;
    const config = settings.current;
    let url: string;
    let embedded: EmbeddedPostgresHandle | null = null;
    if (config.postgres.kind === 'embedded') {
      embedded = await ctx.modules.startEmbeddedPostgres(ctx.dataDir, {
        logger: ctx.logger.child({ part: 'postgres' }),
      });
      url = embedded.url;
      const saved = ctx.store.settings.get();
      if (saved.postgres.kind === 'embedded' && saved.postgres.port !== embedded.port)
        ctx.store.settings.update({ postgres: { kind: 'embedded', port: embedded.port } });
    } else {
      url = withPassword(config.postgres.url, settings.postgresPasswordFor(config.postgres.url));
    }
    const parsed = new URL(url);
    registerSecret(decodeURIComponent(parsed.password));
    const pool = new pg.Pool({
      connectionString: url,
      max: 8,
      application_name: 'cht-sync',
      idleTimeoutMillis: 30_000,
    });
    pool.on('error', (error) => {
      // 57P01: the server is shutting down (ours, on quit, or an administrator's): expected, not a fault.
      if ((error as { code?: string }).code === '57P01')
        this.ctx.logger.info('PostgreSQL closed an idle connection: the server is shutting down');
      else this.ctx.logger.warn('idle PostgreSQL connection failed', { error });
    });
    return { url, pool, embedded };
  }
}

/** The database name in a PostgreSQL URL (`postgres` when it names none). */
export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}
