import { startHttpHost } from '../../host/http-host';
import { announcePostgres, openEngine, syncSummary, transformSummary, untilStopped, watchSync } from '../common';
import { rendererDir, type CliContext } from '../context';
import { EXIT } from '../exit-codes';
import { count } from '../output';
import { announceNextLink, parsePort } from './serve';

export interface DemoCommandOptions {
  port?: string;
}

/**
 * `cht-sync demo`: the whole product with no CHT server: a local CouchDB-protocol
 * server seeded with synthetic CHT data, the embedded PostgreSQL, a first sync,
 * the transforms, then live following and the UI in a browser, until Ctrl-C.
 */
export async function demoCommand(ctx: CliContext, opts: DemoCommandOptions): Promise<number> {
  const port = parsePort(opts.port);
  // The demo ignores COUCHDB_* / POSTGRES_* from the environment (its context carries none): it must never touch a real server.
  const engine = await openEngine(ctx, 'http', { isIsolated: true });
  try {
    ctx.say('Starting the demo CHT server (synthetic data)…');
    const settings = await engine.handlers['setup.useDemo']({});
    const databases = settings.couch.databases;
    ctx.say(
      `Demo CouchDB: ${settings.couch.url} (user ${settings.couch.username ?? '-'}) with ${databases.join(', ')}`,
    );
    const pgUrl = await announcePostgres(ctx, engine);

    const watch = watchSync(ctx, engine, databases);
    let sync;
    try {
      sync = await engine.syncNow({ trigger: 'cli' });
    } finally {
      watch.stop();
    }
    if (ctx.isJson) ctx.io.stdout(JSON.stringify({ event: 'sync', result: sync }));
    else ctx.say(`\n${syncSummary(sync)}`);

    ctx.say('\nRunning the transforms (bundled base pipeline)…');
    const transform = await engine.transformNow({ trigger: 'cli' }).catch((error: unknown) => {
      ctx.io.stderr(`warning: transforms did not run: ${(error as Error).message}`);
      return null;
    });
    if (transform) {
      if (ctx.isJson) ctx.io.stdout(JSON.stringify({ event: 'transform', result: transform }));
      else ctx.say(transformSummary(transform));
    }

    const offFinished = engine.events.on('run.finished', (run) => {
      if (ctx.isJson) ctx.io.stdout(JSON.stringify({ event: 'run.finished', run }));
      else
        ctx.io.stderr(`${run.kind === 'sync' ? 'Sync' : 'Transform'} run #${run.id}: ${run.outcome} (${run.summary})`);
    });
    engine.startDaemon({ follow: true, transforms: true });
    const staticDir = rendererDir();
    const host = await startHttpHost(engine, {
      ...(port !== undefined ? { port } : {}),
      host: '127.0.0.1',
      staticDir: staticDir ?? '/nonexistent',
      logger: ctx.logger.child({ part: 'http' }),
      onLinkUsed: (next) => announceNextLink(ctx, next),
    });
    const docs = sync.databases.reduce((n, d) => n + d.docs, 0);
    if (ctx.isJson) {
      ctx.io.stdout(
        JSON.stringify({ event: 'ready', ui: host.urlWithToken, postgres: pgUrl.replace(/:[^:@/]*@/, ':***@'), docs }),
      );
    } else {
      ctx.say('');
      ctx.say(
        `Synced ${count(docs)} documents from ${databases.length} databases into ${engine.config().schema}.${engine.config().table}.`,
      );
      if (!staticDir) ctx.say('The UI is not built (run `npm run build`); the API is served anyway.');
      ctx.say(`Open the app: ${host.urlWithToken}  (single-use link)`);
      ctx.say(
        `Query the data: psql "<the PostgreSQL URL above>" -c "select source, count(*) from ${engine.config().schema}.${engine.config().table} group by 1"`,
      );
      ctx.say('Following the demo server live. Press Ctrl-C to stop.');
    }
    engine.startDemoActivity();
    await untilStopped(ctx);
    offFinished();
    await host.close();
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}
