import type { CouchDatabaseInfo, CouchTestResult } from '../contract/dto';
import { EngineError } from '../core/engine-error';
import { couchGet, describeTarget, normaliseTarget, type CouchTarget, type ProbeOptions } from './couch-request';
import { statusError } from './couch-status';

/** The databases a CHT instance syncs by default (the wizard preselects them). */
export const USUAL_CHT_DATABASES = ['medic', 'medic-sentinel', 'medic-users-meta', '_users'] as const;

// CHT keeps one `medic-user-<name>-meta` database per user: thousands on a big
// instance, none of them worth offering; their content is in medic-users-meta.
const PER_USER_DB = /^medic-user-.+-meta$/;
const MAX_INFO = 200;

/**
 * Is this a CouchDB we can read with these credentials? Returns the server
 * version and the databases (with counts and sizes) for the setup wizard.
 * Throws an EngineError naming the setting and the fix; never the password.
 */
export async function probeCouch(target: CouchTarget, opts: ProbeOptions = {}): Promise<CouchTestResult> {
  const c = normaliseTarget(target);
  const root = await couchGet(c, '/', opts);
  const rootError = statusError(root, c, 'the server');
  if (rootError) throw rootError;
  const welcome = root.json as {
    couchdb?: unknown;
    'express-pouchdb'?: unknown;
    version?: unknown;
    vendor?: { name?: unknown };
  } | null;
  const isCouch =
    welcome !== null &&
    typeof welcome === 'object' &&
    (welcome.couchdb !== undefined || welcome['express-pouchdb'] !== undefined);
  if (!isCouch) {
    // Some proxies (CHT's API among them) serve a web page at `/`: ask CouchDB's own endpoint instead.
    const session = await couchGet(c, '/_session', opts);
    const sessionError = statusError(session, c, 'the session');
    if (sessionError) throw sessionError;
    const userCtx = (session.json as { userCtx?: unknown } | null)?.userCtx;
    if (!userCtx) {
      const where = describeTarget(new URL(c.url));
      const seen = root.body.trimStart().startsWith('<') ? 'a web page' : `HTTP ${root.status}`;
      throw new EngineError(
        'COUCH_PROTOCOL',
        `${where} answers, but not as CouchDB (it returned ${seen}). Check the CouchDB URL (--couch-url or COUCHDB_HOST/COUCHDB_PORT): it should be the CHT instance's address or CouchDB itself, without a path.`,
        { details: { status: root.status } },
      );
    }
  }
  const serverVersion = typeof welcome?.version === 'string' ? welcome.version : 'unknown';
  const vendor =
    typeof welcome?.vendor?.name === 'string'
      ? welcome.vendor.name
      : welcome?.['express-pouchdb'] !== undefined
        ? 'PouchDB Server'
        : 'Apache CouchDB';

  // A wrong password may still read the anonymous welcome page on some servers: check the login itself.
  if (c.username !== undefined) {
    const session = await couchGet(c, '/_session', opts);
    const sessionError = statusError(session, c, 'the session');
    if (sessionError) throw sessionError;
  }

  const names = await listDatabaseNames(c, opts);
  const wanted = names.filter((n) => !PER_USER_DB.test(n)).slice(0, MAX_INFO);
  const infos = await mapLimit(wanted, 6, (name) => databaseInfo(c, name, opts));
  const databases = infos.filter((d): d is CouchDatabaseInfo => d !== null);
  databases.sort((a, b) => Number(b.isUsual) - Number(a.isUsual) || a.name.localeCompare(b.name));
  return { serverVersion, vendor, databases };
}

/** `_all_dbs`, or (when the user may not list them, CouchDB 3's default for non-admins) the usual CHT set. */
export async function listDatabaseNames(c: CouchTarget, opts: ProbeOptions = {}): Promise<string[]> {
  const all = await couchGet(c, '/_all_dbs', opts);
  if (all.status === 200 && Array.isArray(all.json))
    return (all.json as unknown[]).filter((n): n is string => typeof n === 'string');
  if (all.status === 401 || all.status === 403) {
    if (all.status === 401) {
      const error = statusError(all, c, 'the list of databases');
      if (error && c.username !== undefined) throw error;
    }
    return [...USUAL_CHT_DATABASES];
  }
  const error = statusError(all, c, 'the list of databases');
  if (error) throw error;
  return [...USUAL_CHT_DATABASES];
}

async function databaseInfo(c: CouchTarget, name: string, opts: ProbeOptions): Promise<CouchDatabaseInfo | null> {
  const response = await couchGet(c, `/${encodeURIComponent(name)}`, opts);
  if (response.status !== 200) {
    // Unreadable or gone since the listing: not offered. Server errors are worth telling.
    if (response.status >= 500) {
      const error = statusError(response, c, `the database '${name}'`);
      if (error) throw error;
    }
    return null;
  }
  const info = response.json as {
    doc_count?: number;
    doc_del_count?: number;
    sizes?: { file?: number; external?: number; active?: number };
    disk_size?: number;
    data_size?: number;
  } | null;
  return {
    name,
    docCount: info?.doc_count ?? 0,
    deletedCount: info?.doc_del_count ?? 0,
    sizeBytes: info?.sizes?.external ?? info?.data_size ?? info?.sizes?.file ?? info?.disk_size ?? 0,
    isUsual: (USUAL_CHT_DATABASES as readonly string[]).includes(name),
  };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await fn(items[index]!);
    }
  });
  await Promise.all(workers);
  return out;
}
