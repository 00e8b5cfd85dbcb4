import { existsSync } from 'node:fs';
import path from 'node:path';
import type { SyncRunResult, TransformRunResult } from '../contract/dto';
import { EngineError } from '../core/engine-error';
import { safeUrl } from '../core/redact';
import { bootEngine, type LocalEngine } from '../engine';
import type { CliContext } from './context';
import { bytes, count, seconds, table } from './output';
import { createProgressReporter, type ProgressReporter } from './progress-reporter';

export type CliEngine = LocalEngine;

/** The CouchDB side must be configured, reachable, and have every database, before any work. */
export async function preflightCouch(
  engine: CliEngine,
): Promise<NonNullable<ReturnType<CliEngine['config']>['couch']>> {
  const couch = engine.config().couch;
  if (!couch) {
    throw new EngineError(
      'NOT_CONFIGURED',
      'No CHT instance is configured. Pass --couch-url https://user@cht.example.org (with the password in COUCHDB_PASSWORD), ' +
        'set COUCHDB_HOST / COUCHDB_USER / COUCHDB_PASSWORD (or --env-file <your cht-sync .env>), or try `cht-sync demo`.',
    );
  }
  await engine.checkCouch();
  return couch;
}

/** An external PostgreSQL is checked (login, schema rights) before the engine touches it. */
export function preflightPostgres(engine: CliEngine): Promise<void> {
  return engine.checkPostgres();
}

/**
 * The engine for a command (bootEngine: store, configuration, engine). A signal handler and
 * the command's own cleanup may both close it: both wait for the same shutdown.
 */
export function openEngine(
  ctx: CliContext,
  host: 'in-process' | 'http',
  extra: { isIsolated?: boolean; isObserver?: boolean; metrics?: { port: number; host: string } } = {},
): Promise<CliEngine> {
  return bootEngine({ dataDir: ctx.dataDir, flags: ctx.flags, env: ctx.env, logger: ctx.logger, host, ...extra });
}

/** Starts (embedded) or connects to PostgreSQL; tells how to connect with psql, never the password. */
export async function announcePostgres(ctx: CliContext, engine: CliEngine): Promise<string> {
  const url = await engine.ensurePostgres();
  if (engine.config().postgres.kind === 'embedded') {
    const passwordFile = path.join(ctx.dataDir, 'postgres.json');
    ctx.say(`PostgreSQL (embedded): psql "${safeUrl(url)}"`);
    if (existsSync(passwordFile)) ctx.say(`  the password is in ${passwordFile} (field "password")`);
  } else {
    ctx.say(`PostgreSQL: ${safeUrl(url)}`);
  }
  return url;
}

/** Progress bars/lines driven by the engine's events; returns the reporter and an unsubscribe. */
export function watchSync(
  ctx: CliContext,
  engine: CliEngine,
  databases: string[],
): { reporter: ProgressReporter | null; stop(): void } {
  if (ctx.isJson) return { reporter: null, stop: () => undefined };
  if (ctx.isLogOnStdout) {
    // A service's log carries the states (progress is on /metrics).
    const off = engine.events.on('sync.stateChanged', (e) =>
      ctx.logger.info('sync state changed', {
        database: e.database,
        state: e.state.kind,
        ...(e.state.error ? { error: e.state.error.message } : {}),
      }),
    );
    return { reporter: null, stop: off };
  }
  const reporter = createProgressReporter({ isTty: ctx.io.isTty, write: (line) => ctx.io.stderr(line), databases });
  ctx.setWarningSink((line) => reporter.log(line));
  const offs = [
    engine.events.on('sync.stateChanged', (e) => reporter.state(e.database, e.state)),
    engine.events.on('sync.progress', (p) => reporter.progress(p)),
  ];
  return {
    reporter,
    stop() {
      for (const off of offs) off();
      reporter.stop();
      ctx.setWarningSink(null);
    },
  };
}

export function syncSummary(result: SyncRunResult): string {
  const rows = result.databases.map((d) => [
    d.database,
    count(d.docs),
    count(d.deletes),
    count(d.skipped.length),
    bytes(d.bytes),
    seconds(d.seconds),
    d.outcome,
  ]);
  const lines = [
    table(['DATABASE', 'DOCS', 'DELETES', 'SKIPPED', 'SIZE', 'TIME', 'OUTCOME'], rows, [
      'l',
      'r',
      'r',
      'r',
      'r',
      'r',
      'l',
    ]),
  ];
  for (const d of result.databases) {
    if (d.error) lines.push(`${d.database}: ${d.error.message}`);
    for (const s of d.skipped.slice(0, 5)) lines.push(`${d.database}: skipped document ${s.id}: ${s.reason}`);
    if (d.skipped.length > 5)
      lines.push(
        `${d.database}: … and ${d.skipped.length - 5} more skipped documents (see \`cht-sync status\` / run #${result.runId})`,
      );
  }
  const total = result.databases.reduce((n, d) => n + d.docs, 0);
  lines.push(`Run #${result.runId}: ${result.outcome}, ${count(total)} documents written.`);
  return lines.join('\n');
}

export function transformSummary(result: TransformRunResult): string {
  const lines: string[] = [];
  if (result.models.length) {
    const rows = result.models.map((m) => [
      m.model,
      m.materialized,
      m.status,
      m.rowsAffected === null ? '-' : count(m.rowsAffected),
      seconds(m.seconds),
    ]);
    lines.push(table(['MODEL', 'MATERIALIZED', 'STATUS', 'ROWS', 'TIME'], rows, ['l', 'l', 'l', 'r', 'r']));
  }
  for (const m of result.models) {
    if (m.error) {
      const where = [m.error.details?.file, m.error.details?.line].filter((x) => x !== undefined).join(':');
      lines.push(`${m.model}: ${m.error.message}${where ? ` (${where})` : ''}`);
      if (m.error.details?.sqlFragment)
        lines.push(`  ${String(m.error.details.sqlFragment).split('\n').slice(0, 4).join('\n  ')}`);
    }
    if (m.refreshReason) lines.push(`${m.model}: fully refreshed: ${m.refreshReason}`);
    if (m.skippedBecause) lines.push(`${m.model}: skipped because ${m.skippedBecause} failed`);
  }
  for (const w of result.warnings) lines.push(`warning: ${w}`);
  const ok = result.models.filter((m) => m.status === 'success').length;
  lines.push(
    `Run #${result.runId}: ${result.outcome}, ${ok} of ${result.models.length} models built (project: ${result.project}).`,
  );
  return lines.join('\n');
}

/**
 * Resolves on the first SIGINT/SIGTERM (after calling `onStop`); a second signal
 * exits at once. Returns a disposer for the handlers.
 */
export function onStopSignal(ctx: CliContext, onStop: () => void): () => void {
  let stops = 0;
  const handler = (signal: NodeJS.Signals): void => {
    stops++;
    if (stops === 1) {
      // A service's log says it (below); a terminal user gets the sentence.
      if (!ctx.isLogOnStdout)
        ctx.io.stderr(
          `\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping cleanly (the current batch is finished or abandoned, never half-written). Press Ctrl-C again to force.`,
        );
      ctx.logger.info('stop requested', { signal });
      onStop();
    } else {
      ctx.io.stderr('Forced exit.');
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Waits for SIGINT/SIGTERM. */
export function untilStopped(ctx: CliContext): Promise<void> {
  return new Promise((resolve) => {
    const off = onStopSignal(ctx, () => {
      // Keep the force-exit handler installed while shutting down.
      setImmediate(resolve);
      void off;
    });
  });
}
