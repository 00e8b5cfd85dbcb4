/**
 * The `_selector` filter that keeps a sync to some districts (places and their subtrees).
 * Pure: builds CouchDB Mango selectors from the chosen places and the users found in them
 * (resolve-scope.ts). The rules follow CHT's own replication rules where a selector can
 * express them (see README.md here for what differs and why).
 */
import { EngineError } from '../core/engine-error';

/** How many `parent` levels below a chosen place are followed (CHT hierarchies are 3–6 deep). */
export const MAX_LINEAGE_DEPTH = 10;

/** Non-hierarchical docs every CHT user receives (docs_by_replication_key's `_all` key): the pipeline needs `settings`. */
export const SHARED_DOC_IDS = [
  'settings',
  'resources',
  'branding',
  'partners',
  'service-worker-meta',
  'zscore-charts',
  'privacy-policies',
] as const;
export const SHARED_DOC_TYPES = ['form', 'translations'] as const;

export interface ResolvedScope {
  /** The chosen places' `_id`s. */
  placeIds: readonly string[];
  /** User names (without `org.couchdb.user:`) whose facility is one of the places or below one. */
  userNames: readonly string[];
}

export type MangoSelector = Record<string, unknown>;

export type ScopedDatabaseKind = 'medic' | 'users' | 'users-meta';

/** Which rule set a database gets; databases whose documents carry no lineage cannot be scoped. */
export function scopedDatabaseKind(database: string): ScopedDatabaseKind {
  if (database === '_users') return 'users';
  if (/-users-meta$/.test(database)) return 'users-meta';
  if (/-(sentinel|logs|audit|archive|vault)$/.test(database) || database.startsWith('_')) {
    throw new EngineError(
      'CONFIG_INVALID',
      `The CouchDB database "${database}" cannot be limited to a district: its documents carry no lineage (no parent or contact chain to follow). Fix: remove "${database}" from the databases (COUCHDB_DBS / --databases / Settings), or sync without a scope (remove --scope / CHT_SYNC_SCOPE / the district in Settings).`,
    );
  }
  return 'medic';
}

/** The database the places and user-settings live in: the first configured one with medic's rules (CHT's prefix is configurable), else `medic`. */
export function medicDatabaseOf(databases: readonly string[]): string {
  for (const database of databases) {
    try {
      if (scopedDatabaseKind(database) === 'medic') return database;
    } catch {
      // not scopeable: not the medic database either
    }
  }
  return 'medic';
}

/** `parent._id`, `parent.parent._id`, … under `root` (e.g. `contact`), `depth` levels deep. */
function lineagePaths(root: string, depth: number): string[] {
  const paths: string[] = [];
  let path = root;
  for (let i = 0; i < depth; i++) {
    paths.push(`${path}._id`);
    path = `${path}.parent`;
  }
  return paths;
}

function anyOf(paths: readonly string[], values: readonly string[]): MangoSelector[] {
  return paths.map((p) => ({ [p]: { $in: [...values] } }));
}

/**
 * A medic document is in scope when (CHT's rules, as a selector can state them):
 * - it is one of the places, or one of them is in its `parent` chain (contacts: `contacts_by_depth`);
 * - its submitter (`contact`) is one of the places' contacts — `contact._id`, `contact.parent._id`, …
 *   (reports: CHT keys a report by its subject; see README.md for where the two differ);
 * - it is a task or target of one of the district's users, or one of their `user-settings` docs;
 * - it is shared by every user: settings, resources, forms, translations, …;
 * - it is a legacy `tombstone` doc whose wrapped body is in scope by the rules above.
 */
function medicRules(prefix: string, scope: ResolvedScope): MangoSelector[] {
  const places = scope.placeIds;
  const userIds = scope.userNames.map((n) => `org.couchdb.user:${n}`);
  const rules: MangoSelector[] = [
    { [`${prefix}_id`]: { $in: [...places] } },
    ...anyOf(lineagePaths(`${prefix}parent`, MAX_LINEAGE_DEPTH), places),
    ...anyOf(lineagePaths(`${prefix}contact`, MAX_LINEAGE_DEPTH + 1), places),
  ];
  if (userIds.length > 0) {
    rules.push({ [`${prefix}type`]: { $in: ['task', 'target'] }, [`${prefix}user`]: { $in: userIds } });
    rules.push({ [`${prefix}type`]: 'user-settings', [`${prefix}_id`]: { $in: userIds } });
  }
  return rules;
}

/**
 * The selector for one database. Every body-less deletion travels (whatever it was, the row it
 * deletes may be ours); a deletion that kept its body travels when that body is in scope.
 */
export function scopeSelector(database: string, scope: ResolvedScope): MangoSelector {
  if (scope.placeIds.length === 0)
    throw new EngineError(
      'CONFIG_INVALID',
      'The scope names no place. Fix: give one or more place ids (--scope / CHT_SYNC_SCOPE), or choose a district in Settings.',
    );
  const kind = scopedDatabaseKind(database);
  const deletions: MangoSelector = { _deleted: true, type: { $exists: false } };
  const names = [...scope.userNames];
  switch (kind) {
    case 'medic':
      return {
        $or: [
          deletions,
          { _id: { $in: [...SHARED_DOC_IDS] } },
          { type: { $in: [...SHARED_DOC_TYPES] } },
          ...medicRules('', scope),
          { type: 'tombstone', $or: medicRules('tombstone.', scope) },
        ],
      };
    case 'users':
      return { $or: [deletions, { _id: { $in: names.map((n) => `org.couchdb.user:${n}`) } }] };
    case 'users-meta':
      return {
        $or: [
          deletions,
          { type: 'feedback', 'meta.user.name': { $in: names } },
          { type: 'telemetry', 'metadata.user': { $in: names } },
        ],
      };
  }
}

/** `--scope a,b` / CHT_SYNC_SCOPE: place ids, comma- or space-separated, duplicates dropped. */
export function parseScopeList(value: string | readonly string[] | undefined | null): string[] {
  if (value === undefined || value === null) return [];
  const parts = typeof value === 'string' ? value.split(/[\s,]+/) : value.flatMap((v) => v.split(/[\s,]+/));
  return [...new Set(parts.map((p) => p.trim()).filter((p) => p.length > 0))];
}

/**
 * Whether a document is in scope by the same rules as scopeSelector — the in-process twin
 * used to check a document the server sent (and by tests as an oracle of the selector's
 * meaning, not of CHT's).
 */
export function matchesScope(database: string, doc: Record<string, unknown>, scope: ResolvedScope): boolean {
  return matchSelector(scopeSelector(database, scope), doc);
}

function valueAt(doc: unknown, path: string): unknown {
  let value: unknown = doc;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The Mango subset scopeSelector uses: $or, $in (array fields match any element), $exists, $regex, equality. */
export function matchSelector(selector: MangoSelector, doc: unknown): boolean {
  return Object.entries(selector).every(([key, condition]) => {
    if (key === '$or') return (condition as MangoSelector[]).some((s) => matchSelector(s, doc));
    const value = valueAt(doc, key);
    if (condition !== null && typeof condition === 'object' && !Array.isArray(condition)) {
      return Object.entries(condition as Record<string, unknown>).every(([op, arg]) => {
        switch (op) {
          case '$in': {
            const list = arg as unknown[];
            return (
              value !== undefined && (Array.isArray(value) ? value.some((v) => list.includes(v)) : list.includes(value))
            );
          }
          case '$exists':
            return (value !== undefined) === arg;
          case '$regex':
            return typeof value === 'string' && new RegExp(arg as string).test(value);
          default:
            throw new Error(`matchSelector: unsupported operator ${op}`);
        }
      });
    }
    return Array.isArray(value) ? value.includes(condition) : value === condition;
  });
}
