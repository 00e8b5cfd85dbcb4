/**
 * Turning `--scope <place ids>` into what the selectors need, with a few small requests at the
 * start of a sync: the places must exist and be places; the district's users are the
 * `user-settings` docs (`org.couchdb.user:*` in medic, one `_all_docs` id range) whose facility is
 * one of the places or has one in its `parent` chain — CHT attaches a user to a place by
 * `facility_id` (a string before 4.9, an array since).
 */
import { EngineError } from '../core/engine-error';
import { allDocsByKeys, type CouchJson } from './couch-json';
import { readHierarchy } from './list-places';
import type { ResolvedScope } from './selector';

export interface ScopePlace {
  id: string;
  name: string;
  /** `contact_type` for configurable hierarchies, else `type`. */
  type: string;
}

export interface ScopeResolution extends ResolvedScope {
  places: ScopePlace[];
}

const USER_PREFIX = 'org.couchdb.user:';

export function lineageIds(doc: Record<string, unknown>): string[] {
  const ids: string[] = [];
  let node: unknown = doc.parent;
  for (let depth = 0; depth < 50 && node !== null && typeof node === 'object'; depth++) {
    const id = (node as { _id?: unknown })._id;
    if (typeof id === 'string') ids.push(id);
    node = (node as { parent?: unknown }).parent;
  }
  return ids;
}

function facilityIds(doc: Record<string, unknown>): string[] {
  const f = doc.facility_id;
  if (typeof f === 'string' && f) return [f];
  if (Array.isArray(f)) return f.filter((x): x is string => typeof x === 'string' && x.length > 0);
  return [];
}

export async function resolveScope(
  couch: CouchJson,
  medicDb: string,
  placeIds: readonly string[],
  signal: AbortSignal,
): Promise<ScopeResolution> {
  if (placeIds.length === 0)
    throw new EngineError(
      'CONFIG_INVALID',
      'The scope names no place. Fix: give one or more place ids (--scope / CHT_SYNC_SCOPE), or choose a district in Settings.',
    );
  const hierarchy = await readHierarchy(couch, medicDb, signal);
  const placeTypes = new Set(hierarchy.filter((t) => !t.isPerson).map((t) => t.id));
  const rows = await allDocsByKeys(couch, medicDb, placeIds, true, signal);
  const places: ScopePlace[] = [];
  for (const id of placeIds) {
    const row = rows.find((r) => r.key === id);
    const doc = row?.doc;
    if (!row || row.error || !doc || row.value?.deleted) {
      throw new EngineError(
        'CONFIG_INVALID',
        `The scope names "${id}", which is not a document in "${medicDb}"${row?.value?.deleted ? ' (it was deleted)' : ''}. Fix: use a place's _id (cht-sync places lists them; or choose the district in Settings).`,
      );
    }
    const type = typeof doc.type === 'string' ? doc.type : '';
    const contactType = typeof doc.contact_type === 'string' ? doc.contact_type : '';
    const isPlace = placeTypes.has(type === 'contact' ? contactType : type);
    if (!isPlace) {
      throw new EngineError(
        'CONFIG_INVALID',
        `The scope names "${id}", which is ${type ? `a "${type === 'contact' ? contactType || type : type}" document` : 'a document without a type'}, not a place. Fix: use the _id of a district, health facility or other place.`,
      );
    }
    places.push({
      id,
      name: typeof doc.name === 'string' ? doc.name : id,
      type: type === 'contact' ? contactType : type,
    });
  }

  // The district's users: every user-settings doc, then the lineage of the facilities they name.
  const users = await couch.get<{
    rows?: { id: string; value?: { deleted?: boolean }; doc?: Record<string, unknown> | null }[];
  }>(
    medicDb,
    `/_all_docs?include_docs=true&startkey=${encodeURIComponent(JSON.stringify(USER_PREFIX))}&endkey=${encodeURIComponent(JSON.stringify(`${USER_PREFIX}\ufff0`))}`,
    signal,
  );
  const settings = (users.rows ?? []).filter((r) => r.doc && r.doc.type === 'user-settings');
  const chosen = new Set(placeIds);
  const facilities = [...new Set(settings.flatMap((r) => facilityIds(r.doc ?? {})))].filter((id) => !chosen.has(id));
  const inScope = new Set<string>(placeIds);
  for (let i = 0; i < facilities.length; i += 500) {
    for (const row of await allDocsByKeys(couch, medicDb, facilities.slice(i, i + 500), true, signal)) {
      if (row.doc && lineageIds(row.doc).some((id) => chosen.has(id))) inScope.add(row.key);
    }
  }
  const userNames = settings
    .filter((r) => facilityIds(r.doc ?? {}).some((id) => inScope.has(id)))
    .map((r) => r.id.slice(USER_PREFIX.length))
    .sort();
  return { placeIds: [...placeIds], userNames, places };
}
