import { EngineError } from '../../core/engine-error';
import { diagnosticsReport } from '../diagnostics';
import type { HandlerTable } from '../types';
import type { EngineParts } from './parts';
import { settingsView } from './settings';

/** The app's identity, run history and the diagnostics report. */
export function runsHandlers(
  parts: EngineParts,
): Pick<HandlerTable, 'app.info' | 'runs.list' | 'runs.get' | 'runs.diagnostics'> {
  const { ctx, settings, status, postgres } = parts;
  const { store, info } = ctx;
  return {
    'app.info': async () => info,
    'runs.list': async (filter) => store.runs.list(filter),
    'runs.get': async ({ id }) => {
      const detail = store.runs.get(id);
      if (!detail) throw new EngineError('NOT_FOUND', `There is no run #${id}.`);
      return detail;
    },
    'runs.diagnostics': async ({ id }) => {
      let serverVersion: string | null = null;
      const running = postgres.current;
      if (running)
        serverVersion = await running.pool.query<{ v: string }>("select current_setting('server_version') as v").then(
          (r) => r.rows[0]?.v ?? null,
          () => null,
        );
      const report = diagnosticsReport({
        app: {
          version: info.version,
          host: info.host,
          platform: process.platform,
          arch: process.arch,
          node: process.versions.node,
          electron: ctx.electronVersion,
        },
        settings: settingsView(parts),
        postgres: { kind: settings.current.postgres.kind, serverVersion },
        status: status.list(),
        recent: store.runs.list({ limit: 20 }),
        detail: id !== undefined ? store.runs.get(id) : null,
      });
      return { report };
    },
  };
}
