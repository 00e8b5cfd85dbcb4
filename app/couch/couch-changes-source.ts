/**
 * The ChangesSource adapter for a real CouchDB (or pouchdb-server): streams `_changes`
 * responses through the parsers in changes-parser.ts. Every failure leaves here as an
 * EngineError (classifyCouchError), so the sync loop only sees engine codes.
 */
import type { IncomingMessage } from 'node:http';
import { setImmediate } from 'node:timers/promises';
import type { ChangesSource, DatabaseInfo, FollowItem, PageItem } from '../sync/ports';
import { ContinuousFeedParser, NormalFeedParser } from './changes-parser';
import { classifyCouchError } from './couch-errors';
import { createCouchHttp, type CouchConnection } from './couch-http';

const YIELD_EVERY_MS = 4;

export interface CouchChangesSourceOptions {
  /** No byte for this long during a normal-feed request counts as a timeout (default 60 s). */
  requestTimeoutMs?: number;
  /**
   * Only the documents this Mango selector matches travel (a scope, app/scope): every feed
   * request becomes `POST _changes?filter=_selector` with `{"selector": …}`, as CouchDB 2+/3 asks.
   */
  selector?: Record<string, unknown>;
}

export function createCouchChangesSource(conn: CouchConnection, database: string, options: CouchChangesSourceOptions = {}): ChangesSource {
  const httpClient = createCouchHttp(conn);
  const dbPath = `/${encodeURIComponent(database)}`;
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const classify = (error: unknown, signal: AbortSignal): unknown => (signal.aborted ? signal.reason : classifyCouchError(error, database, conn.url));
  const selector = options.selector;
  const changes = (query: URLSearchParams, o: { signal: AbortSignal; idleTimeoutMs: number; database: string }): Promise<IncomingMessage> => {
    if (!selector) return httpClient.get(`${dbPath}/_changes?${query.toString()}`, o);
    query.set('filter', '_selector');
    return httpClient.post(`${dbPath}/_changes?${query.toString()}`, { selector }, o);
  };

  return {
    database,

    async *page({ since, limit, signal, onOpen }): AsyncGenerator<PageItem> {
      const query = new URLSearchParams({ limit: String(limit), seq_interval: String(limit), include_docs: 'true' });
      if (since !== null) query.set('since', since);
      let res: IncomingMessage | null = null;
      try {
        res = await changes(query, { signal, idleTimeoutMs: requestTimeoutMs, database });
        onOpen?.();
        const parser = new NormalFeedParser();
        let lastYield = performance.now();
        for await (const chunk of res as AsyncIterable<Buffer>) {
          for (const row of parser.push(chunk)) yield { kind: 'row', row };
          // A page that arrived at once would be parsed in one go: let the other databases'
          // PostgreSQL replies in every few milliseconds (not after every small chunk).
          if (performance.now() - lastYield > YIELD_EVERY_MS) {
            await setImmediate();
            lastYield = performance.now();
          }
        }
        const end = parser.end();
        yield { kind: 'end', lastSeq: end.lastSeq, pending: end.pending };
      } catch (error) {
        throw classify(error, signal);
      } finally {
        if (res && !res.complete) res.destroy();
      }
    },

    async *follow({ since, signal, heartbeatMs, onOpen }): AsyncGenerator<FollowItem> {
      const query = new URLSearchParams({ feed: 'continuous', heartbeat: String(heartbeatMs), include_docs: 'true' });
      if (since !== null) query.set('since', since);
      let res: IncomingMessage | null = null;
      try {
        res = await changes(query, { signal, idleTimeoutMs: Math.max(3 * heartbeatMs, 30_000), database });
        onOpen?.();
        const parser = new ContinuousFeedParser();
        for await (const chunk of res as AsyncIterable<Buffer>) {
          for (const item of parser.push(chunk)) {
            yield item;
            if (item.kind === 'end') return;
          }
        }
        // A continuous feed only ends when the server closes it: reconnect from the last checkpoint.
        throw Object.assign(new Error('the server closed the continuous changes feed'), { code: 'ECONNRESET' });
      } catch (error) {
        throw classify(error, signal);
      } finally {
        if (res && !res.complete) res.destroy();
      }
    },

    async info(signal): Promise<DatabaseInfo> {
      try {
        const res = await httpClient.get(dbPath, { signal, idleTimeoutMs: requestTimeoutMs, database });
        const chunks: Buffer[] = [];
        for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { doc_count?: unknown; doc_del_count?: unknown };
        return {
          docCount: typeof body.doc_count === 'number' ? body.doc_count : 0,
          deletedCount: typeof body.doc_del_count === 'number' ? body.doc_del_count : 0,
        };
      } catch (error) {
        throw classify(error, signal);
      }
    },

    close() {
      httpClient.close();
    },
  };
}
