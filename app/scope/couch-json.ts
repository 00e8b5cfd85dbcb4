/**
 * Small JSON requests on the one CouchDB client (app/couch/couch-client.ts): what the scope and
 * reconciliation need besides the feed — `_all_docs` pages and key lookups, one doc, `_find`.
 * Every failure leaves as an EngineError naming the database (classifyCouchError).
 */
import { createCouchClient, type CouchConnection } from '../couch/couch-client';

export interface CouchJson {
  get<T>(database: string, pathAndQuery: string, signal: AbortSignal): Promise<T>;
  post<T>(database: string, pathAndQuery: string, body: unknown, signal: AbortSignal): Promise<T>;
  close(): void;
}

const TIMEOUT_MS = 120_000;

export function createCouchJson(conn: CouchConnection): CouchJson {
  const client = createCouchClient(conn, { timeoutMs: TIMEOUT_MS, maxSockets: 2 });
  return {
    get: (database, pathAndQuery, signal) => client.json(database, { path: pathAndQuery, signal }),
    post: (database, pathAndQuery, body, signal) =>
      client.json(database, { method: 'POST', path: pathAndQuery, body, signal }),
    close: () => client.close(),
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
export async function allDocsByKeys(
  couch: CouchJson,
  database: string,
  keys: readonly string[],
  includeDocs: boolean,
  signal: AbortSignal,
): Promise<AllDocsRow[]> {
  if (keys.length === 0) return [];
  const body = await couch.post<{ rows?: AllDocsRow[] }>(
    database,
    `/_all_docs${includeDocs ? '?include_docs=true' : ''}`,
    { keys },
    signal,
  );
  return body.rows ?? [];
}
