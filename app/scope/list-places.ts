/**
 * The server's places by hierarchy level, for choosing a scope (the wizard's district step,
 * `cht-sync places`). Levels come from the `settings` doc's `contact_types` (each type's
 * `parents`; a type without parents is level 1); before CHT 3.7, or without settings, from the
 * fixed hierarchy district_hospital > health_center > clinic. Places are found with one `_find`
 * per listing (only `_id`, `name`, type and `parent._id` travel).
 */
import type { ScopePlace } from '../contract/dto';
import type { CouchConnection } from '../couch/couch-client';
import { createCouchJson, type CouchJson } from './couch-json';

export interface HierarchyType {
  id: string;
  level: number;
  isPerson: boolean;
}

export type PlaceChoice = ScopePlace;

const FIXED: HierarchyType[] = [
  { id: 'district_hospital', level: 1, isPerson: false },
  { id: 'health_center', level: 2, isPerson: false },
  { id: 'clinic', level: 3, isPerson: false },
  { id: 'person', level: 4, isPerson: true },
];

/** Levels from `contact_types` (pure; exported for tests). A type in a cycle or with unknown parents gets the deepest level seen + 1. */
export function hierarchyFromSettings(settingsDoc: unknown): HierarchyType[] {
  const types = ((settingsDoc as { settings?: { contact_types?: unknown } } | null)?.settings?.contact_types ??
    null) as unknown;
  if (!Array.isArray(types) || types.length === 0) return FIXED;
  const byId = new Map<string, { parents: string[]; isPerson: boolean }>();
  for (const t of types as { id?: unknown; parents?: unknown; person?: unknown }[]) {
    if (typeof t?.id !== 'string') continue;
    byId.set(t.id, {
      parents: Array.isArray(t.parents) ? t.parents.filter((p): p is string => typeof p === 'string') : [],
      isPerson: t.person === true,
    });
  }
  const levels = new Map<string, number>();
  const levelOf = (id: string, seen: Set<string>): number => {
    const known = levels.get(id);
    if (known !== undefined) return known;
    const t = byId.get(id);
    if (!t || seen.has(id)) return 0;
    seen.add(id);
    const parentLevels = t.parents.map((p) => levelOf(p, seen)).filter((l) => l > 0);
    const level = t.parents.length === 0 ? 1 : parentLevels.length ? Math.min(...parentLevels) + 1 : 1;
    levels.set(id, level);
    return level;
  };
  return [...byId.entries()].map(([id, t]) => ({ id, level: levelOf(id, new Set()), isPerson: t.isPerson }));
}

export async function readHierarchy(couch: CouchJson, medicDb: string, signal: AbortSignal): Promise<HierarchyType[]> {
  try {
    return hierarchyFromSettings(await couch.get<unknown>(medicDb, '/settings', signal));
  } catch (error) {
    // No settings doc (a 404; a missing database fails the next request with its own message): the fixed hierarchy.
    if ((error as { details?: { status?: number } }).details?.status === 404) return FIXED;
    throw error;
  }
}

/** Places of the hierarchy's top `maxLevel` levels (default 2: districts and the level below), sorted by level then name. */
export async function listPlaces(
  couch: CouchJson,
  medicDb: string,
  signal: AbortSignal,
  maxLevel = 2,
): Promise<PlaceChoice[]> {
  const hierarchy = await readHierarchy(couch, medicDb, signal);
  const wanted = hierarchy.filter((t) => !t.isPerson && t.level <= maxLevel);
  const levelOf = new Map(wanted.map((t) => [t.id, t.level]));
  const fixed = wanted.filter((t) => FIXED.some((f) => f.id === t.id)).map((t) => t.id);
  const configurable = wanted.map((t) => t.id);
  const found = await couch.post<{ docs?: Record<string, unknown>[] }>(
    medicDb,
    '/_find',
    {
      selector: { $or: [{ type: { $in: fixed } }, { type: 'contact', contact_type: { $in: configurable } }] },
      fields: ['_id', 'name', 'type', 'contact_type', 'parent._id'],
      limit: 20_000,
    },
    signal,
  );
  const places: PlaceChoice[] = [];
  for (const doc of found.docs ?? []) {
    if (typeof doc._id !== 'string') continue;
    const type = doc.type === 'contact' && typeof doc.contact_type === 'string' ? doc.contact_type : String(doc.type);
    const level = levelOf.get(type);
    if (level === undefined) continue;
    const parent = doc.parent as { _id?: unknown } | undefined;
    places.push({
      id: doc._id,
      name: typeof doc.name === 'string' && doc.name ? doc.name : doc._id,
      type,
      level,
      parentId: typeof parent?._id === 'string' ? parent._id : null,
    });
  }
  return places.sort((a, b) => a.level - b.level || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** listPlaces on a connection of its own (the engine's entry point). */
export async function listPlacesOn(
  conn: CouchConnection,
  medicDb: string,
  signal: AbortSignal = AbortSignal.timeout(60_000),
): Promise<PlaceChoice[]> {
  const couch = createCouchJson(conn);
  try {
    return await listPlaces(couch, medicDb, signal);
  } finally {
    couch.close();
  }
}
