import { EngineError } from '../../core/engine-error';
import { startHttpHost } from '../../host/http-host';
import { openEngine, preflightPostgres, untilStopped } from '../common';
import { rendererDir, type CliContext } from '../context';
import { EXIT } from '../exit-codes';

export interface ServeCommandOptions {
  port?: string;
  host?: string;
}

/**
 * `cht-sync serve`: the desktop app's UI and API for a browser, on loopback by
 * default, with a per-start token in the printed URL. The saved schedule runs.
 */
export async function serveCommand(ctx: CliContext, opts: ServeCommandOptions): Promise<number> {
  const port = parsePort(opts.port);
  await preflightPostgres(ctx);
  const engine = await openEngine(ctx, 'http');
  try {
    const staticDir = rendererDir();
    if (!staticDir) ctx.io.stderr('warning: the UI is not built (dist/renderer is missing): run `npm run build`. The API is served anyway.');
    const host = await startHttpHost(engine, { ...(port !== undefined ? { port } : {}), host: opts.host ?? '127.0.0.1', staticDir: staticDir ?? '/nonexistent', logger: ctx.logger.child({ part: 'http' }) });
    engine.startDaemon({ follow: false, transforms: true });
    if (ctx.isJson) ctx.io.stdout(JSON.stringify({ url: host.url, urlWithToken: host.urlWithToken }));
    else {
      ctx.say(`CHT Sync Desktop is served at: ${host.urlWithToken}`);
      ctx.say('Open that link in a browser (it includes this session’s access token). Press Ctrl-C to stop.');
    }
    await untilStopped(ctx);
    await host.close();
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 0 || port > 65535) throw new EngineError('CONFIG_INVALID', `--port must be a number between 1 and 65535 (or 0 for any free port) (got '${value}').`);
  return port;
}
