/**
 * The sync's composition root (DESIGN.md §2, issue 9 §2): app/sync knows its ports only; here
 * the CouchDB feed source (app/couch), the PostgreSQL raw sink and tables (app/postgres), the
 * CouchDB error translator and scope resolution (app/scope) are wired in. Everything that runs
 * a sync — the engine's runner, the CLI through it, the bench and the tests — calls these.
 */
import type { SyncRunResult } from '../contract/dto';
import { createCouchChangesSource } from '../couch/couch-changes-source';
import { localDiskError } from '../core/disk-error';
import { classifyCouchError } from '../couch/couch-errors';
import { translatePgError } from '../postgres/pg-errors';
import { ensureRawSchema } from '../postgres/raw-schema';
import { createPgRawSink } from '../postgres/raw-sink';
import { createCouchJson } from '../scope/couch-json';
import { resolveScope } from '../scope/resolve-scope';
import { medicDatabaseOf, scopeSelector } from '../scope/selector';
import { syncFollow as followWith, syncOnce as onceWith, type SyncAdapters, type SyncOptions } from '../sync';

export function syncAdapters(options: SyncOptions): SyncAdapters {
  return {
    async prepare() {
      try {
        await ensureRawSchema(options.pool, options.schema, options.table);
      } catch (error) {
        throw translatePgError(error, `creating the raw tables in schema "${options.schema}"`);
      }
    },
    source: (database, selector) =>
      createCouchChangesSource(options.couch, database, {
        ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
        ...(selector ? { selector } : {}),
      }),
    sink: () =>
      createPgRawSink({ pool: options.pool, schema: options.schema, table: options.table, logger: options.logger }),
    // A full or read-only local disk is said as such, never as a CouchDB failure (issue 11 #9).
    sourceError: (error, database) => localDiskError(error) ?? classifyCouchError(error, database, options.couch.url),
    async resolveScope(placeIds, databases, signal) {
      // Every database must be scopeable before anything is asked of the server.
      for (const database of databases) scopeSelector(database, { placeIds: [...placeIds], userNames: [] });
      const medic = medicDatabaseOf(databases);
      const couch = createCouchJson(options.couch);
      try {
        const resolved = await resolveScope(couch, medic, placeIds, signal);
        return {
          selectors: new Map(databases.map((database) => [database, scopeSelector(database, resolved)] as const)),
          info: { places: resolved.places, userCount: resolved.userNames.length },
        };
      } catch (error) {
        throw signal.aborted ? error : classifyCouchError(error, medic, options.couch.url);
      } finally {
        couch.close();
      }
    },
  };
}

/** Catch every configured database up to the end of its feed, then return. Never throws. */
export function syncOnce(options: SyncOptions): Promise<Omit<SyncRunResult, 'runId'>> {
  return onceWith(options, syncAdapters(options));
}

/** Catch up, then follow every database's continuous feed until `options.signal` aborts. Never throws. */
export function syncFollow(options: SyncOptions): Promise<Omit<SyncRunResult, 'runId'>> {
  return followWith(options, syncAdapters(options));
}
