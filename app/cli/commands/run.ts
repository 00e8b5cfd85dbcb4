import {
  announcePostgres,
  openEngine,
  preflightCouch,
  preflightPostgres,
  transformSummary,
  untilStopped,
  watchSync,
} from '../common';
import type { CliContext } from '../context';
import { EXIT } from '../exit-codes';
import { closeWithin, metricsEndpoint, waitUntilReachable } from '../service';

export interface RunCommandOptions {
  metricsPort?: string;
  metricsHost?: string;
}

/**
 * `cht-sync run`: the daemon, as cht-sync's containers together: follow the
 * feeds continuously and, when batches land new rows, run the incremental
 * models (debounced, never two at once, at most one per DATAEMON_INTERVAL).
 * As a service: /metrics, /healthz and /readyz on --metrics-port (answering from
 * the start, while PostgreSQL and CouchDB are waited for with backoff); SIGTERM
 * finishes or abandons the current batch within the grace period.
 */
export async function runCommand(ctx: CliContext, o: RunCommandOptions = {}): Promise<number> {
  const endpoint = metricsEndpoint(ctx, o);
  const stop = new AbortController();
  const stopped = untilStopped(ctx).then(() => stop.abort());
  const engine = await openEngine(ctx, 'in-process', endpoint ? { metrics: endpoint } : {});
  try {
    const metricsUrl = engine.metricsUrl();
    if (metricsUrl) ctx.say(`Metrics and health: ${metricsUrl}/metrics, /healthz, /readyz`);
    const isCouchReady = await waitUntilReachable(ctx, 'CouchDB', () => preflightCouch(engine), stop.signal);
    const isPgReady =
      isCouchReady && (await waitUntilReachable(ctx, 'PostgreSQL', () => preflightPostgres(engine), stop.signal));
    // Stopped while waiting: a clean stop.
    if (!isPgReady) return EXIT.ok;
    const couch = engine.config().couch!;
    ctx.say(
      `CouchDB: ${couch.url}${couch.username ? ` (user ${couch.username})` : ''} → databases ${couch.databases.join(', ')}`,
    );
    await announcePostgres(ctx, engine);
    const watch = watchSync(ctx, engine, couch.databases);
    const log = (line: string) => (watch.reporter ? watch.reporter.log(line) : ctx.say(line));
    const offs = [
      engine.events.on('run.finished', (run) => {
        if (ctx.isJson) {
          ctx.io.stdout(JSON.stringify({ event: 'run.finished', run }));
          return;
        }
        if (ctx.isLogOnStdout) {
          ctx.logger.info(`${run.kind} run finished`, { runId: run.id, outcome: run.outcome, summary: run.summary });
          return;
        }
        if (run.kind === 'transform') {
          void engine.handlers['runs.get']({ id: run.id }).then(
            (detail) => {
              if (detail.models)
                log(
                  transformSummary({
                    runId: detail.id,
                    outcome: detail.outcome,
                    startedAt: detail.startedAt,
                    finishedAt: detail.finishedAt ?? '',
                    project: '',
                    models: detail.models,
                    warnings: detail.warnings ?? [],
                  }),
                );
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
    ctx.say(
      `Following the feeds and running transforms (at most every ${engine.config().transform.intervalSeconds} s). ${ctx.isLogOnStdout ? 'SIGTERM stops.' : 'Press Ctrl-C to stop.'}`,
    );
    await stopped;
    await closeWithin(ctx, () => engine.close());
    for (const off of offs) off();
    watch.stop();
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}
