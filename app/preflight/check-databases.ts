import { EngineError } from '../core/engine-error';
import { couchGet, describeTarget, normaliseTarget, type CouchTarget, type ProbeOptions } from './couch-request';
import { statusError } from './couch-status';
import { nearMiss } from './near-miss';
import { listDatabaseNames } from './probe-couch';

/**
 * Every configured database exists and is readable; otherwise one error that
 * lists each missing name with the nearest existing one (`medic_sentinel` →
 * `medic-sentinel`).
 */
export async function checkDatabases(target: CouchTarget, databases: string[], opts: ProbeOptions = {}): Promise<void> {
  const c = normaliseTarget(target);
  const missing: string[] = [];
  // Asked together: on a field link each answer costs a round trip (300 ms and more), and a sync
  // of four databases should not wait for four of them in a row. Judged in the list's order.
  const responses = await Promise.all(databases.map((name) => couchGet(c, `/${encodeURIComponent(name)}`, opts)));
  for (const [index, name] of databases.entries()) {
    const response = responses[index]!;
    if (response.status === 200) {
      const info = response.json as { db_name?: unknown; doc_count?: unknown } | null;
      if (info && typeof info === 'object' && (info.db_name !== undefined || info.doc_count !== undefined)) continue;
      throw new EngineError(
        'COUCH_PROTOCOL',
        `${describeTarget(new URL(c.url))} answers for '${name}', but not as a CouchDB database (${response.body.trimStart().startsWith('<') ? 'it returned a web page' : 'unexpected content'}). ` +
          'Check the CouchDB URL (--couch-url or COUCHDB_HOST/COUCHDB_PORT): it should be the CHT instance’s address or CouchDB itself, without a path.',
        { details: { database: name } },
      );
    }
    if (response.status === 404) {
      missing.push(name);
      continue;
    }
    const error = statusError(response, c, `the database '${name}'`);
    if (error) throw error;
    throw new EngineError(
      'COUCH_PROTOCOL',
      `${describeTarget(new URL(c.url))} answered HTTP ${response.status} for the database '${name}'. Check the CouchDB URL points at CouchDB or the CHT instance.`,
      { details: { database: name, status: response.status } },
    );
  }
  if (missing.length === 0) return;
  let existing: string[] = [];
  try {
    existing = await listDatabaseNames(c, opts);
  } catch {
    existing = [];
  }
  const items = missing.map((name) => ({
    name,
    suggestion: nearMiss(
      name,
      existing.filter((e) => !databases.includes(e)),
    ),
  }));
  const where = describeTarget(new URL(c.url));
  const parts = items.map((i) => `'${i.name}'${i.suggestion ? ` (did you mean '${i.suggestion}'?)` : ''}`);
  const message =
    `${items.length === 1 ? 'The database' : 'The databases'} ${parts.join(', ')} ${items.length === 1 ? 'does' : 'do'} not exist on ${where}. ` +
    'Fix the database list (--databases or COUCHDB_DBS)' +
    (existing.length
      ? `; this server has: ${existing
          .filter((e) => !/^medic-user-.+-meta$/.test(e))
          .slice(0, 12)
          .join(', ')}.`
      : '.');
  throw new EngineError('COUCH_DB_MISSING', message, { details: { missing: items } });
}
