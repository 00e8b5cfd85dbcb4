import { EngineError } from '../../core/engine-error';
import {
  announcePostgres,
  onStopSignal,
  openEngine,
  preflightCouch,
  preflightPostgres,
  syncSummary,
  untilStopped,
  watchSync,
} from '../common';
import type { CliContext } from '../context';
import { EXIT } from '../exit-codes';

export interface SyncCommandOptions {
  once?: boolean;
  timeout?: string;
}

/** `cht-sync sync [--once]`: catch up every configured database; without --once keep following. */
export async function syncCommand(ctx: CliContext, opts: SyncCommandOptions): Promise<number> {
  const timeoutSeconds = opts.timeout === undefined ? undefined : Number(opts.timeout);
  if (timeoutSeconds !== undefined && (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1)) {
    throw new EngineError('CONFIG_INVALID', `--timeout must be a whole number of seconds (got '${opts.timeout}').`);
  }
  const engine = await openEngine(ctx, 'in-process');
  try {
    const couch = await preflightCouch(engine);
    await preflightPostgres(engine);
    ctx.say(
      `CouchDB: ${couch.url}${couch.username ? ` (user ${couch.username})` : ''} → databases ${couch.databases.join(', ')}`,
    );
    await announcePostgres(ctx, engine);
    ctx.say(`Raw table: ${engine.config().schema}.${engine.config().table}`);
    const watch = watchSync(ctx, engine, couch.databases);

    if (opts.once) {
      const disposeSignals = onStopSignal(ctx, () => void engine.close());
      let result;
      try {
        result = await engine.syncNow({ trigger: 'cli', ...(timeoutSeconds ? { timeoutSeconds } : {}) });
      } finally {
        watch.stop();
        disposeSignals();
      }
      if (ctx.isJson) ctx.io.stdout(JSON.stringify(result, null, 2));
      else ctx.say(`\n${syncSummary(result)}`);
      if (result.outcome === 'cancelled') return EXIT.interrupted;
      const isComplete = result.databases.length > 0 && result.databases.every((d) => d.reachedEnd);
      if (isComplete) return EXIT.ok;
      // Refused credentials are the user's to fix, like a preflight failure.
      return result.outcome === 'refused' ? EXIT.userError : EXIT.incomplete;
    }

    const offFinished = engine.events.on('run.finished', (run) => {
      if (run.kind !== 'sync') return;
      const line = `Sync run #${run.id} ended: ${run.outcome} (${run.summary})`;
      if (ctx.isJson) ctx.io.stdout(JSON.stringify({ event: 'run.finished', run }));
      else (watch.reporter?.log ?? ctx.say)(line);
    });
    engine.startDaemon({ follow: true, transforms: false });
    ctx.say('Following the changes feeds live. Press Ctrl-C to stop.');
    await untilStopped(ctx);
    await engine.close();
    offFinished();
    watch.stop();
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}
