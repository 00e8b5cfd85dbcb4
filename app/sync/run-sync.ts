/**
 * Shared by syncOnce and syncFollow: prepare the raw tables, run every database concurrently
 * (each with its own feed connection and its own PostgreSQL connection), and fold the
 * per-database results into one run result. Never throws.
 */
import type { DatabaseRunResult, RunOutcome, ScopeInfo, SyncRunResult } from '../contract/dto';
import { EngineError } from '../core/engine-error';
import { classifyCouchError } from '../couch/couch-errors';
import { createCouchChangesSource } from '../couch/couch-changes-source';
import { classifyPgError } from '../postgres/raw-errors';
import { ensureRawSchema } from '../postgres/raw-schema';
import { createPgRawSink } from '../postgres/raw-sink';
import { createCouchJson } from '../scope/couch-json';
import { resolveScope } from '../scope/resolve-scope';
import { medicDatabaseOf, scopeSelector, type MangoSelector } from '../scope/selector';
import { failedDatabaseResult, runDatabase } from './run-database';
import { precedenceFor, sourceFor } from './source-name';
import type { SyncOptions } from './types';

export function overallOutcome(results: readonly DatabaseRunResult[], isCancelled: boolean): RunOutcome {
  if (results.length > 0 && results.every((r) => r.outcome === 'done')) return 'done';
  if (isCancelled) return results.some((r) => r.outcome === 'done') ? 'partial' : 'cancelled';
  if (results.some((r) => r.outcome === 'done')) return 'partial';
  const outcomes = new Set(results.map((r) => r.outcome));
  if (outcomes.size === 1) return [...outcomes][0] as RunOutcome;
  return 'failed';
}

function safeSource(url: string, database: string): string {
  try {
    return sourceFor(url, database);
  } catch {
    return database;
  }
}

export async function runSync(options: SyncOptions, mode: 'once' | 'follow'): Promise<Omit<SyncRunResult, 'runId'>> {
  const startedAt = new Date().toISOString();
  const userSignal = options.signal ?? new AbortController().signal;
  const deadline = new AbortController();
  let isDeadline = false;
  const timer =
    mode === 'once' && options.timeoutSeconds && options.timeoutSeconds > 0
      ? setTimeout(() => {
          isDeadline = true;
          deadline.abort(new Error('deadline'));
        }, options.timeoutSeconds * 1000)
      : undefined;
  const stop = AbortSignal.any([userSignal, deadline.signal]);
  const failAll = (error: EngineError): DatabaseRunResult[] =>
    (options.databases.length ? [...new Set(options.databases)] : ['(none)']).map((database) =>
      failedDatabaseResult(database, safeSource(options.couch.url, database), error.toWire()),
    );

  let databases: DatabaseRunResult[];
  let scopeInfo: ScopeInfo | undefined;
  try {
    let precedence: string[];
    try {
      precedence = precedenceFor(options.couch.url, options.databases);
    } catch {
      throw new EngineError('CONFIG_INVALID', `The CouchDB URL is not a valid URL. Fix: set it like https://cht.example.org (COUCHDB_HOST / --couch-url).`);
    }
    try {
      await ensureRawSchema(options.pool, options.schema, options.table);
    } catch (error) {
      throw classifyPgError(error, `creating the raw tables in schema "${options.schema}"`);
    }
    if (options.databases.length === 0) {
      throw new EngineError('CONFIG_INVALID', 'No CouchDB database is configured. Fix: set COUCHDB_DBS (e.g. medic,medic-sentinel,medic-users-meta,_users) or choose databases in Settings.');
    }
    const selectors = new Map<string, MangoSelector>();
    if (options.scope && options.scope.length > 0) {
      const placeIds = [...options.scope];
      // Every database must be scopeable before anything is asked of the server.
      for (const database of options.databases) scopeSelector(database, { placeIds, userNames: [] });
      const couch = createCouchJson(options.couch);
      try {
        const resolved = await resolveScope(couch, medicDatabaseOf(options.databases), placeIds, stop);
        for (const database of options.databases) selectors.set(database, scopeSelector(database, resolved));
        scopeInfo = { places: resolved.places, userCount: resolved.userNames.length };
        options.logger.info('sync limited to a scope', { places: resolved.places.map((p) => `${p.name} (${p.id})`), users: resolved.userNames.length });
      } finally {
        couch.close();
      }
    }
    databases = await Promise.all(
      [...new Set(options.databases)].map(async (database) => {
        const selector = selectors.get(database);
        const changes =
          options.sourceFactory?.(database) ??
          createCouchChangesSource(options.couch, database, { ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}), ...(selector ? { selector } : {}) });
        const sink = options.sinkFactory?.(database) ?? createPgRawSink({ pool: options.pool, schema: options.schema, table: options.table, logger: options.logger });
        try {
          return await runDatabase({
            options,
            database,
            source: sourceFor(options.couch.url, database),
            precedence,
            mode,
            changes,
            sink,
            stop,
            isDeadline: () => isDeadline,
          });
        } finally {
          changes.close();
          await sink.close().catch(() => undefined);
        }
      }),
    );
  } catch (error) {
    const engineError =
      error instanceof EngineError ? error : stop.aborted ? new EngineError('CANCELLED', 'The sync was stopped before it started.') : classifyCouchError(error, medicDatabaseOf(options.databases), options.couch.url);
    options.logger.error('sync could not start', { code: engineError.code, message: engineError.message });
    databases = failAll(engineError);
  } finally {
    clearTimeout(timer);
  }
  return {
    outcome: overallOutcome(databases, userSignal.aborted && mode === 'once'),
    startedAt,
    finishedAt: new Date().toISOString(),
    databases,
    ...(scopeInfo ? { scope: scopeInfo } : {}),
  };
}
