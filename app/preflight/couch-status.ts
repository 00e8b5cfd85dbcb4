import { EngineError } from '../core/engine-error';
import type { CouchResponse, CouchTarget } from './couch-request';
import { describeTarget } from './couch-request';

/**
 * An HTTP status from CouchDB that means the probe cannot go on, as an
 * EngineError naming the user, the setting and the fix; null when the status
 * is for the caller to interpret.
 */
export function statusError(response: CouchResponse, target: CouchTarget, what: string): EngineError | null {
  const url = new URL(target.url);
  const where = describeTarget(url);
  const status = response.status;
  const reason = couchReason(response);
  const details = { status, host: url.hostname, what };
  if (status === 400 && /plain HTTP request was sent to HTTPS port/i.test(response.body)) {
    return new EngineError(
      'COUCH_PROTOCOL',
      `${where} is an HTTPS port: use https://${url.host} (COUCHDB_SECURE=true). CHT behind its nginx answers on https port 443; CouchDB itself listens on port 5984.`,
      { details: { ...details, expected: 'https' } },
    );
  }
  if (status === 401) {
    if (target.username === undefined) {
      return new EngineError(
        'COUCH_AUTH',
        `${where} requires a login to read ${what}. Set COUCHDB_USER and COUCHDB_PASSWORD (or user:password in --couch-url).`,
        { details },
      );
    }
    return new EngineError(
      'COUCH_AUTH',
      `${where} rejected the user '${target.username}' (HTTP 401${reason ? `: ${reason}` : ''}). Check COUCHDB_USER and COUCHDB_PASSWORD (or the credentials in --couch-url).`,
      { details: { ...details, username: target.username } },
    );
  }
  if (status === 403) {
    const who = target.username === undefined ? 'Anonymous users' : `The user '${target.username}'`;
    return new EngineError(
      'COUCH_FORBIDDEN',
      `${who} may not read ${what} on ${where} (HTTP 403${reason ? `: ${reason}` : ''}). Use a CouchDB admin, or give this user a role that is a member of the database.`,
      { details: { ...details, username: target.username ?? null } },
    );
  }
  if (status >= 500) {
    return new EngineError(
      'COUCH_SERVER',
      `${where} failed with HTTP ${status} reading ${what}${reason ? ` (${reason})` : ''}. Try again later; if it persists, check the CouchDB server's logs.`,
      { retryable: true, details },
    );
  }
  return null;
}

export function couchReason(response: CouchResponse): string {
  const json = response.json as { error?: unknown; reason?: unknown } | null;
  if (json && typeof json === 'object') {
    return [json.error, json.reason].filter((x): x is string => typeof x === 'string' && x !== '').join(': ');
  }
  return '';
}
