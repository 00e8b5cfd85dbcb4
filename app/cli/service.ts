import { EngineError } from '../core/engine-error';
import { sleep } from '../core/sleep';
import type { CliContext } from './context';

/** Where `run` / `serve` answer /metrics, /healthz and /readyz, or null when not asked for. */
export function metricsEndpoint(
  ctx: CliContext,
  o: { metricsPort?: string; metricsHost?: string },
): { port: number; host: string } | null {
  const raw = o.metricsPort ?? ctx.env.CHT_SYNC_METRICS_PORT;
  if (raw === undefined || raw.trim() === '') return null;
  const setting = o.metricsPort !== undefined ? '--metrics-port' : 'CHT_SYNC_METRICS_PORT';
  const port = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || port > 65535)
    throw new EngineError(
      'CONFIG_INVALID',
      `${setting} must be a port number between 1 and 65535 (or 0 for any free port) (got '${raw}').`,
    );
  const host = (o.metricsHost ?? ctx.env.CHT_SYNC_METRICS_HOST ?? '127.0.0.1').trim() || '127.0.0.1';
  return { port, host };
}

/** Seconds between attempts while a server is down at start-up: 1, 2, 4 … then every 30. */
const WAIT_STEPS_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

/**
 * A service starts before its servers are up (compose, Kubernetes): a server that cannot be
 * reached *yet* is waited for with backoff (logged each time), never a reason to exit. A setting
 * that is wrong (credentials, a missing database, permissions) fails at once: waiting would not
 * fix it. Resolves false when stopped while waiting.
 */
export async function waitUntilReachable(
  ctx: CliContext,
  what: string,
  check: () => Promise<unknown>,
  signal: AbortSignal,
): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await check();
      if (attempt > 0) ctx.logger.info(`${what} is reachable`, { attempts: attempt + 1 });
      return true;
    } catch (error) {
      if (!(error instanceof EngineError) || !error.retryable) throw error;
      const wait = WAIT_STEPS_MS[Math.min(attempt, WAIT_STEPS_MS.length - 1)]!;
      ctx.logger.warn(`waiting for ${what}`, {
        error: error.message,
        code: error.code,
        retryInSeconds: wait / 1000,
        attempt: attempt + 1,
      });
      await sleep(wait, signal);
      if (signal.aborted) return false;
    }
  }
}

/**
 * The stop sequence of a service: `close` finishes or abandons the current batch; if that takes
 * longer than the grace (CHT_SYNC_STOP_GRACE_SECONDS, default 25: inside Kubernetes' and
 * compose's 30 s), the process exits anyway, saying so — a batch is one transaction, so an
 * abandoned one is rolled back by PostgreSQL, never half-written.
 */
export async function closeWithin(ctx: CliContext, close: () => Promise<void>): Promise<void> {
  const raw = ctx.env.CHT_SYNC_STOP_GRACE_SECONDS;
  const seconds = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 25;
  let timer: NodeJS.Timeout | null = null;
  const started = Date.now();
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), seconds * 1000);
    timer.unref();
  });
  const outcome = await Promise.race([close().then(() => 'closed' as const), expired]);
  if (timer) clearTimeout(timer);
  if (outcome === 'expired') {
    ctx.logger.error(
      'the service did not stop within its grace period; exiting (an unfinished batch is rolled back by PostgreSQL)',
      { graceSeconds: seconds },
    );
    process.exit(1);
  }
  ctx.logger.info('stopped cleanly', { seconds: Math.round((Date.now() - started) / 100) / 10 });
}
