/**
 * Shared by syncOnce and syncFollow: prepare the raw tables, run every database concurrently
 * (each with its own feed connection and its own PostgreSQL connection), and fold the
 * per-database results into one run result. Never throws.
 */
import type { DatabaseRunResult, RunOutcome, ScopeInfo, SyncRunResult } from '../contract/dto';
import { EngineError } from '../core/engine-error';
import type { FeedSelector, SyncAdapters } from './ports';
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

export async function runSync(
  options: SyncOptions,
  mode: 'once' | 'follow',
  adapters: SyncAdapters,
): Promise<Omit<SyncRunResult, 'runId'>> {
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
      throw new EngineError(
        'CONFIG_INVALID',
        `The CouchDB URL is not a valid URL. Fix: set it like https://cht.example.org (COUCHDB_HOST / --couch-url).`,
      );
    }
    await adapters.prepare();
    if (options.databases.length === 0) {
      throw new EngineError(
        'CONFIG_INVALID',
        'No CouchDB database is configured. Fix: set COUCHDB_DBS (e.g. medic,medic-sentinel,medic-users-meta,_users) or choose databases in Settings.',
      );
    }
    let selectors: ReadonlyMap<string, FeedSelector> = new Map();
    if (options.scope && options.scope.length > 0) {
      const resolved = await adapters.resolveScope([...options.scope], options.databases, stop);
      selectors = resolved.selectors;
      scopeInfo = resolved.info;
      options.logger.info('sync limited to a scope', {
        places: resolved.info.places.map((p) => `${p.name} (${p.id})`),
        users: resolved.info.userCount,
      });
    }
    databases = await Promise.all(
      [...new Set(options.databases)].map(async (database) => {
        const changes = options.sourceFactory?.(database) ?? adapters.source(database, selectors.get(database) ?? null);
        const sink = options.sinkFactory?.(database) ?? adapters.sink(database);
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
            sourceError: (error, db) => adapters.sourceError(error, db),
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
      error instanceof EngineError
        ? error
        : stop.aborted
          ? new EngineError('CANCELLED', 'The sync was stopped before it started.')
          : adapters.sourceError(error, options.databases[0] ?? '(none)');
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
