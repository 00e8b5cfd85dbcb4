/**
 * CHT's own replication rules (api's authorization service and the medic/contacts_by_depth and
 * medic/docs_by_replication_key views, restated from their behaviour), applied to generated
 * documents in memory: what an offline user at the chosen places would be allowed to see. The
 * scope tests compare what a scoped sync stored with this, independently of app/scope's selector.
 */
import type { GeneratedDoc } from '../../../app/generator/generate-cht-docs';

type Doc = Record<string, unknown>;
const CONTACT_TYPES = new Set(['contact', 'clinic', 'district_hospital', 'health_center', 'person']);
const SHARED_IDS = new Set([
  'resources',
  'branding',
  'partners',
  'service-worker-meta',
  'zscore-charts',
  'settings',
  'privacy-policies',
]);

function parentChain(doc: Doc): string[] {
  const ids: string[] = [];
  for (
    let node = doc.parent as Doc | undefined;
    node && typeof node === 'object';
    node = node.parent as Doc | undefined
  )
    if (typeof node._id === 'string') ids.push(node._id);
  return ids;
}

const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;

/** docs_by_replication_key's subject of a report. */
export function reportSubject(doc: Doc): string | undefined {
  const fields = (doc.fields ?? {}) as Doc;
  const contactId = str((doc.contact as Doc | undefined)?._id);
  if (doc.form) {
    const errors = Array.isArray(doc.errors) ? (doc.errors as Doc[]) : [];
    if (contactId && errors.some((e) => e.code === 'registration_not_found' || e.code === 'invalid_patient_id'))
      return contactId;
    return (
      str(doc.patient_id) ??
      str(fields.patient_id) ??
      str(doc.place_id) ??
      str(fields.place_id) ??
      str(fields.patient_uuid) ??
      contactId
    );
  }
  if (doc.sms_message) return contactId;
  return undefined;
}

export interface ChtScopeOracle {
  /** `${database}\u0001${_id}` of every doc an offline user at the places would get, plus every body-less deletion. */
  expected: Set<string>;
  users: Set<string>;
  /** Reports CHT keys by an out-of-scope subject but whose submitter is in scope (and the reverse). */
  subjectOutSubmitterIn: Set<string>;
  subjectInSubmitterOut: Set<string>;
  /**
   * Reports whose subject is a shortcode two contacts share, one in scope and one not (the
   * generator draws shortcodes at random; CHT makes them unique): CHT's rule is undefined there.
   */
  ambiguous: Set<string>;
}

export function chtScopeOracle(docs: readonly GeneratedDoc[], placeIds: readonly string[]): ChtScopeOracle {
  const places = new Set(placeIds);
  // The last version of each doc wins (the generator can emit a doc, then its tombstone).
  const latest = new Map<string, GeneratedDoc>();
  for (const g of docs) latest.set(`${g.database}\u0001${String(g.doc._id)}`, g);
  const live = [...latest.values()];
  const bodyOf = (d: Doc): Doc =>
    d.type === 'tombstone' && d.tombstone && typeof d.tombstone === 'object' ? (d.tombstone as Doc) : d;

  const inScopeContact = (d: Doc): boolean =>
    CONTACT_TYPES.has(String(d.type)) && (places.has(String(d._id)) || parentChain(d).some((id) => places.has(id)));
  const subjectIds = new Set<string>();
  const shortcodeScopes = new Map<string, Set<boolean>>();
  for (const g of live) {
    if (g.database !== 'medic' || g.doc._deleted || !CONTACT_TYPES.has(String(g.doc.type))) continue;
    const isIn = inScopeContact(g.doc);
    for (const v of [g.doc.patient_id, g.doc.place_id]) {
      const code = str(v);
      if (code) shortcodeScopes.set(code, (shortcodeScopes.get(code) ?? new Set()).add(isIn));
    }
    if (!isIn) continue;
    subjectIds.add(String(g.doc._id));
    for (const v of [g.doc.patient_id, g.doc.place_id]) if (str(v)) subjectIds.add(str(v) as string);
  }
  const ambiguous = new Set<string>();
  const users = new Set<string>();
  for (const g of live) {
    if (g.database !== 'medic' || g.doc.type !== 'user-settings') continue;
    const facilities = Array.isArray(g.doc.facility_id) ? g.doc.facility_id : [g.doc.facility_id];
    if (facilities.some((f) => typeof f === 'string' && subjectIds.has(f)))
      users.add(String(g.doc._id).replace('org.couchdb.user:', ''));
  }
  const userIds = new Set([...users].map((n) => `org.couchdb.user:${n}`));

  const expected = new Set<string>();
  const subjectOutSubmitterIn = new Set<string>();
  const subjectInSubmitterOut = new Set<string>();
  for (const g of live) {
    const key = `${g.database}\u0001${String(g.doc._id)}`;
    const raw = g.doc;
    if (raw._deleted && raw.type === undefined) {
      expected.add(key);
      continue;
    }
    const d = bodyOf(raw);
    let isIn = false;
    if (g.database === 'medic') {
      if (SHARED_IDS.has(String(d._id)) || d.type === 'form' || d.type === 'translations') isIn = true;
      else if (CONTACT_TYPES.has(String(d.type))) isIn = inScopeContact(d);
      else if (d.type === 'data_record') {
        const subject = reportSubject(d);
        if (subject && (shortcodeScopes.get(subject)?.size ?? 0) > 1) {
          ambiguous.add(key);
          continue;
        }
        const submitter = str((d.contact as Doc | undefined)?._id);
        isIn = subject ? subjectIds.has(subject) : submitter !== undefined && subjectIds.has(submitter);
        const submitterLineage =
          d.contact && typeof d.contact === 'object'
            ? [String((d.contact as Doc)._id), ...parentChain(d.contact as Doc)]
            : [];
        const submitterIn = submitterLineage.some((id) => places.has(id));
        if (!isIn && submitterIn) subjectOutSubmitterIn.add(key);
        if (isIn && !submitterIn) subjectInSubmitterOut.add(key);
      } else if (d.type === 'task' || d.type === 'target') isIn = userIds.has(String(d.user));
      else if (d.type === 'user-settings') isIn = userIds.has(String(d._id));
    } else if (g.database === '_users') isIn = userIds.has(String(d._id));
    else if (g.database === 'medic-users-meta') {
      const name =
        d.type === 'feedback'
          ? ((d.meta as Doc | undefined)?.user as Doc | undefined)?.name
          : d.type === 'telemetry'
            ? (d.metadata as Doc | undefined)?.user
            : undefined;
      isIn = typeof name === 'string' && users.has(name);
    }
    if (isIn) expected.add(key);
  }
  return { expected, users, subjectOutSubmitterIn, subjectInSubmitterOut, ambiguous };
}
