/**
 * Preflight's view of the one CouchDB client (app/couch/couch-client.ts): a GET whose HTTP status
 * the checks interpret themselves, network failures already classified with the setting and fix.
 */
import { createCouchClient, type CouchConnection, type CouchReply } from '../couch/couch-client';

export { describeTarget, normaliseConnection as normaliseTarget } from '../couch/couch-transport';

/** The target shape the wizard, the saved settings and the sync carry. */
export type CouchTarget = CouchConnection;
export type CouchResponse = CouchReply;

export interface ProbeOptions {
  timeoutMs?: number;
}

/**
 * One GET against CouchDB with basic auth. Network-level failures become an EngineError that
 * names the setting and the fix; HTTP statuses are returned for the caller to interpret (401 vs
 * 404 mean different things per endpoint).
 */
export async function couchGet(
  target: CouchTarget,
  pathname: string,
  options: ProbeOptions = {},
): Promise<CouchResponse> {
  const client = createCouchClient(target, { timeoutMs: options.timeoutMs ?? 10_000, maxSockets: 1 });
  try {
    return await client.get(pathname);
  } finally {
    client.close();
  }
}
