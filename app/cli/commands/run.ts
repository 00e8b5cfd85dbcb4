import { announcePostgres, openEngine, preflightCouch, preflightPostgres, transformSummary, untilStopped, watchSync } from '../common';
import type { CliContext } from '../context';
import { EXIT } from '../exit-codes';

/**
 * `cht-sync run`: the daemon, as cht-sync's containers together: follow the
 * feeds continuously and, when batches land new rows, run the incremental
 * models (debounced, never two at once, at most one per DATAEMON_INTERVAL).
 */
export async function runCommand(ctx: CliContext): Promise<number> {
  const engine = await openEngine(ctx, 'in-process');
  try {
    const couch = await preflightCouch(engine);
    await preflightPostgres(engine);
    ctx.say(`CouchDB: ${couch.url}${couch.username ? ` (user ${couch.username})` : ''} → databases ${couch.databases.join(', ')}`);
    await announcePostgres(ctx, engine);
    const watch = watchSync(ctx, engine, couch.databases);
    const log = (line: string) => (watch.reporter ? watch.reporter.log(line) : ctx.say(line));
    const offs = [
      engine.events.on('run.finished', (run) => {
        if (ctx.isJson) {
          ctx.io.stdout(JSON.stringify({ event: 'run.finished', run }));
          return;
        }
        if (run.kind === 'transform') {
          void engine.handlers['runs.get']({ id: run.id }).then(
            (detail) => {
              if (detail.models) log(transformSummary({ runId: detail.id, outcome: detail.outcome, startedAt: detail.startedAt, finishedAt: detail.finishedAt ?? '', project: '', models: detail.models, warnings: detail.warnings ?? [] }));
              else log(`Transform run #${run.id}: ${run.outcome} (${run.summary})`);
            },
            () => log(`Transform run #${run.id}: ${run.outcome} (${run.summary})`),
          );
        } else {
          log(`Sync run #${run.id} ended: ${run.outcome} (${run.summary})`);
        }
      }),
    ];
    engine.startDaemon({ follow: true, transforms: true });
    ctx.say(`Following the feeds and running transforms (at most every ${engine.config().transform.intervalSeconds} s). Press Ctrl-C to stop.`);
    await untilStopped(ctx);
    await engine.close();
    for (const off of offs) off();
    watch.stop();
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}
