/**
 * Translating what went wrong talking to CouchDB into the engine's one error class.
 * "Down" (refused, reset, cut mid-response) and "slow" (no byte within the timeout while
 * connected) are told apart: COUCH_UNREACHABLE vs COUCH_TIMEOUT. Messages name the
 * database and the fix and never contain credentials (the URL we print has none).
 */
import { EngineError } from '../core/engine-error';
import { safeUrl } from '../core/redact';

export class CouchTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no data for ${Math.round(ms / 1000)} s`);
    this.name = 'CouchTimeoutError';
  }
}

export class CouchTruncatedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CouchTruncatedError';
  }
}

const DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);

export function couchHttpError(status: number, body: string, database: string, baseUrl: string): EngineError {
  const where = `CouchDB database "${database}" at ${safeUrl(baseUrl)}`;
  let reason = '';
  try {
    const parsed = JSON.parse(body) as { error?: unknown; reason?: unknown };
    reason = [parsed.error, parsed.reason].filter((x) => typeof x === 'string' && x).join(': ');
  } catch {
    reason = body.slice(0, 200);
  }
  const said = reason ? ` (the server said: ${reason})` : '';
  const details = { database, status };
  if (status === 401) {
    return new EngineError('COUCH_AUTH', `${where} rejected the username or password (HTTP 401)${said}. Fix: check COUCHDB_USER / COUCHDB_PASSWORD (or the CouchDB login in Settings).`, { details });
  }
  if (status === 403) {
    return new EngineError('COUCH_FORBIDDEN', `${where} refused access (HTTP 403)${said}. Fix: use a CouchDB admin, or a user that is a member of this database.`, { details });
  }
  if (status === 404) {
    return new EngineError('COUCH_DB_MISSING', `${where} does not exist (HTTP 404)${said}. Fix: correct the name in COUCHDB_DBS (CHT uses medic, medic-sentinel, medic-users-meta, _users).`, { details });
  }
  if (status >= 500) {
    return new EngineError('COUCH_SERVER', `${where} failed with a server error (HTTP ${status})${said}. It will be retried; if it persists, check the CouchDB server's logs.`, { retryable: true, details });
  }
  if (status === 400) {
    return new EngineError('COUCH_PROTOCOL', `${where} rejected the changes request (HTTP 400)${said}. If the database was restored, recreated or moved to another cluster, the saved position no longer applies. Fix: delete the couchdb_progress row whose source ends in "/${database}" to copy it again from the start.`, { details });
  }
  return new EngineError('COUCH_PROTOCOL', `${where} answered HTTP ${status}${said}, which a CouchDB _changes request should not get. Fix: check that the URL points at CouchDB itself, not a web page or proxy.`, { details });
}

export function classifyCouchError(error: unknown, database: string, baseUrl: string): EngineError {
  if (error instanceof EngineError) return error;
  const where = `CouchDB database "${database}" at ${safeUrl(baseUrl)}`;
  if (error instanceof CouchTimeoutError) {
    return new EngineError('COUCH_TIMEOUT', `${where} is reachable but sent nothing for ${Math.round(error.ms / 1000)} s. It will be retried; if it persists, the server is overloaded or a proxy buffers the feed.`, { retryable: true, details: { database }, cause: error });
  }
  if (error instanceof CouchTruncatedError || error instanceof SyntaxError) {
    return new EngineError('COUCH_UNREACHABLE', `${where} closed the connection in the middle of a response (${error.message}). It will be retried from the last saved position.`, { retryable: true, details: { database }, cause: error });
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') || code === 'EPROTO')) {
    return new EngineError('COUCH_TLS', `${where}: the secure (TLS) connection failed (${code}). Fix: use http:// for a plain port (5984) or https:// for 443, and make sure the certificate is valid.`, { details: { database, code }, cause: error });
  }
  if ((typeof code === 'string' && DOWN_CODES.has(code)) || message === 'aborted' || /socket hang up|ECONNRESET|premature/i.test(message)) {
    return new EngineError('COUCH_UNREACHABLE', `${where} cannot be reached (${typeof code === 'string' ? code : message}). Fix: check the URL, the network and that CouchDB is running; it will be retried.`, { retryable: true, details: { database, code }, cause: error });
  }
  if (code === 'ETIMEDOUT') {
    return new EngineError('COUCH_TIMEOUT', `${where} did not answer in time (ETIMEDOUT). It will be retried.`, { retryable: true, details: { database }, cause: error });
  }
  return new EngineError('COUCH_PROTOCOL', `${where}: unexpected failure reading the changes feed (${message}).`, { retryable: true, details: { database }, cause: error });
}
