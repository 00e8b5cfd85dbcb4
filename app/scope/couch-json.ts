/**
 * Small JSON requests on the sync's own CouchDB client (app/couch/couch-http.ts): what the scope
 * and reconciliation need besides the feed — `_all_docs` pages and key lookups, one doc, `_find`.
 * Every failure leaves as an EngineError naming the database (classifyCouchError).
 */
import { classifyCouchError } from '../couch/couch-errors';
import { createCouchHttp, type CouchConnection, type CouchHttp } from '../couch/couch-http';

export interface CouchJson {
  get<T>(database: string, pathAndQuery: string, signal: AbortSignal): Promise<T>;
  post<T>(database: string, pathAndQuery: string, body: unknown, signal: AbortSignal): Promise<T>;
  close(): void;
}

const TIMEOUT_MS = 120_000;

export function createCouchJson(conn: CouchConnection): CouchJson {
  const http: CouchHttp = createCouchHttp(conn);
  const read = async <T>(database: string, signal: AbortSignal, open: () => ReturnType<CouchHttp['get']>): Promise<T> => {
    try {
      const res = await open();
      const chunks: Buffer[] = [];
      for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
    } catch (error) {
      throw signal.aborted ? signal.reason : classifyCouchError(error, database, conn.url);
    }
  };
  const dbPath = (database: string): string => `/${encodeURIComponent(database)}`;
  return {
    get: (database, pathAndQuery, signal) => read(database, signal, () => http.get(`${dbPath(database)}${pathAndQuery}`, { signal, idleTimeoutMs: TIMEOUT_MS, database })),
    post: (database, pathAndQuery, body, signal) => read(database, signal, () => http.post(`${dbPath(database)}${pathAndQuery}`, body, { signal, idleTimeoutMs: TIMEOUT_MS, database })),
    close: () => http.close(),
  };
}

export interface AllDocsRow {
  id?: string;
  key: string;
  value?: { rev: string; deleted?: boolean };
  error?: string;
  doc?: Record<string, unknown> | null;
}

/** `POST _all_docs {keys}`: one row per key, `error: "not_found"` for a key the server does not have (purged, or never). */
export async function allDocsByKeys(couch: CouchJson, database: string, keys: readonly string[], includeDocs: boolean, signal: AbortSignal): Promise<AllDocsRow[]> {
  if (keys.length === 0) return [];
  const body = await couch.post<{ rows?: AllDocsRow[] }>(database, `/_all_docs${includeDocs ? '?include_docs=true' : ''}`, { keys }, signal);
  return body.rows ?? [];
}
