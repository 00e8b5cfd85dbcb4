import { EngineError } from '../../core/engine-error';
import { startHttpHost } from '../../host/http-host';
import { openEngine, preflightPostgres, untilStopped } from '../common';
import { rendererDir, type CliContext } from '../context';
import { EXIT } from '../exit-codes';
import { closeWithin, metricsEndpoint } from '../service';

export interface ServeCommandOptions {
  port?: string;
  host?: string;
  metricsPort?: string;
  metricsHost?: string;
}

/**
 * `cht-sync serve`: the desktop app's UI and API for a browser, on loopback by
 * default, with a per-start token in the printed URL. The saved schedule runs.
 */
export async function serveCommand(ctx: CliContext, opts: ServeCommandOptions): Promise<number> {
  const port = parsePort(opts.port);
  const endpoint = metricsEndpoint(ctx, opts);
  const engine = await openEngine(ctx, 'http', endpoint ? { metrics: endpoint } : {});
  try {
    const metricsUrl = engine.metricsUrl();
    if (metricsUrl) ctx.say(`Metrics and health: ${metricsUrl}/metrics, /healthz, /readyz`);
    await preflightPostgres(engine);
    const staticDir = rendererDir();
    if (!staticDir)
      ctx.io.stderr(
        'warning: the UI is not built (dist/renderer is missing): run `npm run build`. The API is served anyway.',
      );
    const host = await startHttpHost(engine, {
      ...(port !== undefined ? { port } : {}),
      host: opts.host ?? '127.0.0.1',
      staticDir: staticDir ?? '/nonexistent',
      logger: ctx.logger.child({ part: 'http' }),
      onLinkUsed: (next) => announceNextLink(ctx, next),
    });
    engine.startDaemon({ follow: false, transforms: true });
    if (ctx.isJson)
      ctx.io.stdout(
        JSON.stringify({ url: host.url, urlWithToken: host.urlWithToken, appUrl: host.appUrl, token: host.token }),
      );
    else if (ctx.isLogOnStdout) {
      // Standard output carries the JSON log, which never holds a token: the link goes to standard error.
      ctx.logger.info('serving the UI and API', { url: host.url });
      ctx.io.stderr(`CHT Sync Desktop is served at: ${host.urlWithToken}`);
    } else {
      ctx.say(`CHT Sync Desktop is served at: ${host.urlWithToken}`);
      ctx.say(
        'Open that link in a browser: it signs the browser in once (single-use) and leaves a clean address. Press Ctrl-C to stop.',
      );
    }
    await untilStopped(ctx);
    await host.close();
    await closeWithin(ctx, () => engine.close());
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

/** Links are single-use: once one is opened, the terminal shows the next (another browser, or after closing this one). */
export function announceNextLink(ctx: CliContext, next: string): void {
  if (ctx.isJson) ctx.io.stdout(JSON.stringify({ event: 'link', urlWithToken: next }));
  else ctx.io.stderr(`The link was used to sign a browser in. For another browser: ${next}`);
}

export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 0 || port > 65535)
    throw new EngineError(
      'CONFIG_INVALID',
      `--port must be a number between 1 and 65535 (or 0 for any free port) (got '${value}').`,
    );
  return port;
}
