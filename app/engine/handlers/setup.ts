import { EngineError } from '../../core/engine-error';
import type { Estimate } from '../../contract';
import { estimateSeconds } from '../../preflight';
import { medicDatabaseOf, scopedDatabaseKind } from '../../scope';
import { couchOrigin, saveBoundSecret, SECRET_NAMES } from '../../store';
import { configFromSaved, withPassword } from '../config';
import type { HandlerTable } from '../types';
import { applySettings, type EngineParts } from './parts';
import { savePatch, settingsView } from './settings';

type SetupMethods =
  'setup.testCouch' | 'setup.testPostgres' | 'setup.estimate' | 'setup.complete' | 'setup.useDemo' | 'setup.listPlaces';

/** The setup wizard: test the servers, estimate the first sync, save the setup (or the demo's). */
export function setupHandlers(parts: EngineParts): Pick<HandlerTable, SetupMethods> {
  const { ctx, settings, postgres, demo } = parts;
  const { modules, store } = ctx;
  return {
    // No password given (Settings' "Test connection" keeps the saved one): the saved password, only for its own server.
    'setup.testCouch': async (c) =>
      modules.probeCouch(c.password === undefined ? withSaved(c, settings.couchPasswordFor(c.url)) : c, {
        timeoutMs: 15_000,
      }),
    'setup.testPostgres': async ({ postgres: target }) => {
      const config = settings.current;
      if (target.kind === 'embedded') {
        if (config.postgres.kind !== 'embedded') {
          // Switching to embedded: start it now so the wizard can show it works.
          const handle = await modules.startEmbeddedPostgres(ctx.dataDir, { logger: ctx.logger });
          try {
            return await modules.probePostgres(handle.url);
          } finally {
            await handle.stop();
          }
        }
        return modules.probePostgres((await postgres.get()).url);
      }
      const url = configFromSaved({ ...store.settings.get(), postgres: { ...target } }, config).postgres;
      if (url.kind !== 'external') throw new EngineError('INTERNAL', 'unexpected postgres setting');
      // The saved password goes only to the host and port it was saved for, whatever that server asks for.
      return modules.probePostgres(withPassword(url.url, target.password ?? settings.postgresPasswordFor(url.url)));
    },
    'setup.estimate': async ({ databases, ...c }) => {
      await modules.checkDatabases(c, databases, { timeoutMs: 15_000 });
      let docs = 0;
      let bytes = 0;
      for (const name of databases) {
        const response = await modules.couchGet(c, `/${encodeURIComponent(name)}`, { timeoutMs: 15_000 });
        const dbInfo = response.json as {
          doc_count?: number;
          doc_del_count?: number;
          sizes?: { external?: number; file?: number };
          data_size?: number;
          disk_size?: number;
        } | null;
        // The changes feed carries deleted documents too; each becomes a row.
        docs += (dbInfo?.doc_count ?? 0) + (dbInfo?.doc_del_count ?? 0);
        const size = dbInfo?.sizes?.external ?? dbInfo?.data_size ?? dbInfo?.sizes?.file ?? dbInfo?.disk_size ?? 0;
        // Servers that report no size (pouchdb-server): a CHT document averages about 1.7 KB.
        bytes += size > 0 ? size : ((dbInfo?.doc_count ?? 0) + (dbInfo?.doc_del_count ?? 0)) * 1700;
      }
      // jsonb plus the three indexes takes about twice CouchDB's compacted JSON; the pipeline's tables add a little more.
      const estimate: Estimate = { docs, bytes, diskBytes: Math.round(bytes * 2.5), seconds: Math.ceil(docs / 1500) };
      // The time comes from the link itself: one page of the largest database, timed, extrapolated.
      try {
        const probe = await modules.probeLink(c, databases[0]!, { timeoutMs: 30_000 });
        estimate.seconds = estimateSeconds(probe, docs);
        if (probe.docs > 0) {
          estimate.link = {
            bytesPerSecond: Math.round(probe.wireBytes / Math.max(probe.transferMs / 1000, 0.005)),
            latencyMs: Math.round(probe.latencyMs),
            bytesPerDoc: Math.round(probe.wireBytes / probe.docs),
            isCompressed: probe.isCompressed,
          };
        }
      } catch (error) {
        ctx.logger.warn('the link probe for the first-sync estimate failed; estimating from the document counts', {
          error,
        });
      }
      return estimate;
    },
    'setup.listPlaces': async ({ databases, url, ...rest }) => {
      const saved = settings.current.couch ? settings.couchConnection() : null;
      let conn: { url: string; username?: string; password?: string; trustedFingerprint256?: string };
      if (url)
        conn =
          rest.password === undefined ? withSaved({ url, ...rest }, settings.couchPasswordFor(url)) : { url, ...rest };
      else if (saved) {
        const { databases: _databases, scope: _scope, ...savedConn } = saved;
        conn = savedConn;
      } else throw new EngineError('NOT_CONFIGURED', 'No CHT instance is configured yet. Enter its address first.');
      const dbs = databases ?? saved?.databases ?? ['medic'];
      const places = await modules.listPlaces(conn, medicDatabaseOf(dbs));
      const unscopeable = dbs.filter((db) => {
        try {
          scopedDatabaseKind(db);
          return false;
        } catch {
          return true;
        }
      });
      return { places, unscopeable };
    },
    'setup.complete': async (args) => {
      savePatch(parts, args, { isSetupComplete: true, isDemo: false });
      await demo.release();
      await applySettings(parts);
      return settingsView(parts);
    },
    'setup.useDemo': async () => {
      const handle = await demo.run();
      store.settings.update({
        couch: { url: handle.url, username: handle.username, databases: handle.databases, trustedFingerprint256: null },
        isDemo: true,
        isSetupComplete: true,
      });
      saveBoundSecret(store.secrets, SECRET_NAMES.couchPassword, couchOrigin(handle.url), handle.password);
      await applySettings(parts);
      return settingsView(parts);
    },
  };
}

function withSaved<T extends { password?: string }>(c: T, password: string | null): T {
  return password === null ? c : { ...c, password };
}
