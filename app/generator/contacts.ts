import { DAY_MS, type Doc, type GenContext } from './context';
import { familyName, note, personName, phone, type Script } from './text';
import { emoji } from './text';

/** Minified lineage, as CHT stores it: `{_id, parent: {_id, parent: …}}`. */
export interface Lineage {
  _id: string;
  parent?: Lineage;
}

export interface PlaceRef {
  id: string;
  lineage: Lineage;
  name: string;
  /** The full document, kept for the hydrated-lineage edge case (csv-to-docs inlines whole parents). */
  doc: Doc;
}

export interface PersonRef {
  id: string;
  name: string;
  patientId: string | number;
  dob: string;
  sex: string;
  household: PlaceRef;
}

const META_ADMIN = { created_by: 'admin', created_by_person_uuid: '', created_by_place_uuid: '' };

export function userMeta(user: string, personId: string, placeId: string): Doc {
  return { created_by: user, created_by_person_uuid: personId, created_by_place_uuid: placeId };
}

export function buildDistrict(
  ctx: GenContext,
  at: number,
  name: string,
  contactId: string,
): { ref: PlaceRef; doc: Doc } {
  const id = ctx.docId(at);
  const doc: Doc = {
    _id: id,
    _rev: ctx.ids.rev(ctx.rng.range(1, 4)),
    type: 'district_hospital',
    name,
    is_name_generated: 'false',
    external_id: `BR-${ctx.rng.range(10, 99)}`,
    notes: '',
    contact: { _id: contactId, parent: { _id: id } },
    meta: META_ADMIN,
    reported_date: ctx.reportedDate(at),
  };
  return { ref: { id, lineage: { _id: id }, name, doc }, doc };
}

export function buildHealthCenter(
  ctx: GenContext,
  at: number,
  district: PlaceRef,
  name: string,
  contactId: string,
): { ref: PlaceRef; doc: Doc } {
  const id = ctx.docId(at);
  const lineage: Lineage = { _id: id, parent: district.lineage };
  const configurable = ctx.rng.chance(0.1);
  const doc: Doc = {
    _id: id,
    _rev: ctx.ids.rev(ctx.rng.range(1, 3)),
    type: configurable ? 'contact' : 'health_center',
    ...(configurable ? { contact_type: 'chw_area' } : {}),
    name,
    is_name_generated: 'false',
    external_id: '',
    notes: '',
    parent: district.lineage,
    contact: { _id: contactId, parent: lineage },
    place_id: String(ctx.rng.range(10000, 99999)),
    meta: META_ADMIN,
    reported_date: ctx.reportedDate(at),
  };
  return { ref: { id, lineage, name, doc }, doc };
}

export function buildHousehold(
  ctx: GenContext,
  at: number,
  area: PlaceRef,
  script: Script,
  headId: string,
  creator: { user: string; personId: string },
): { ref: PlaceRef; doc: Doc } {
  const id = ctx.docId(at);
  const lineage: Lineage = { _id: id, parent: area.lineage };
  const name = familyName(ctx.rng, script);
  const configurable = ctx.rng.chance(0.08);
  let contact: unknown = { _id: headId, parent: lineage };
  if (ctx.edge('stringContact', 0.002)) contact = ctx.rng.pick(['{}', '', {}]);
  const doc: Doc = {
    _id: id,
    _rev: ctx.ids.rev(ctx.rng.chance(0.1) ? ctx.rng.range(2, 6) : 1),
    type: configurable ? 'contact' : 'clinic',
    ...(configurable ? { contact_type: 'household' } : {}),
    name,
    is_name_generated: 'true',
    external_id: '',
    notes: '',
    parent: area.lineage,
    contact,
    geolocation: `${(-1.1 - ctx.rng.next() * 0.2).toFixed(4)} ${(36.9 + ctx.rng.next() * 0.2).toFixed(4)}`,
    place_id: String(ctx.rng.range(10000, 99999)),
    meta: userMeta(creator.user, creator.personId, area.id),
    reported_date: ctx.reportedDate(at),
  };
  return { ref: { id, lineage, name, doc }, doc };
}

export function buildPerson(
  ctx: GenContext,
  at: number,
  o: {
    id?: string;
    household: PlaceRef;
    script: Script;
    creator: { user: string; personId: string; placeId: string };
    role?: string;
    adult?: boolean;
  },
): { ref: PersonRef; doc: Doc } {
  const { rng } = ctx;
  const csvStyle = ctx.edge('uuid5', 0.004);
  const id = o.id ?? (csvStyle ? ctx.ids.uuid5() : ctx.docId(at));
  // one script dominates an area; migrants, married-in relatives and imports bring others
  let name = personName(
    rng,
    rng.chance(0.12) ? rng.pick(['latin', 'devanagari', 'arabic', 'ethiopic'] as const) : o.script,
  );
  if (ctx.edge('emoji', 0.01)) name = `${name} ${emoji(rng)}`;
  const ageYears = o.adult ? rng.range(18, 60) : rng.chance(0.35) ? rng.range(0, 5) : rng.range(6, 80);
  const dobMs = at - ageYears * 365.25 * DAY_MS - rng.int(365) * DAY_MS;
  const dob = ctx.dateOfBirth(dobMs);
  const sex = rng.chance(0.02) ? rng.pick(['F', 'M']) : rng.pick(['female', 'male']);
  const patientId = ctx.shortcode();
  let notes = rng.chance(0.1) ? note(rng) : '';
  if (ctx.edge('nul', 0.002)) notes = `Called twice\u0000no answer`;
  else if (ctx.edge('backslash', 0.002))
    notes = rng.pick([
      'Photo saved in C:\\CHT\\photos\\new',
      'Path \\\\server\\share and regex \\d+\\s*',
      'ends with a backslash \\',
    ]);
  else if (ctx.edge('literalEscape', 0.001)) notes = 'typed as text: \\u0000 is not a NUL';
  else if (rng.chance(0.003)) notes = `Prefers visits after 2pm ${emoji(rng)} — “quoted” text, tab\tand newline\nend`;

  let parent: unknown = o.household.lineage;
  if (ctx.edge('hydratedLineage', 0.003)) parent = o.household.doc;
  else if (ctx.edge('danglingParent', 0.002))
    parent = { _id: rng.pick(['clinic1', 'hc1', ctx.ids.uuid4()]), parent: { _id: 'dist1' } };
  else if (ctx.edge('emptyParent', 0.001)) parent = '';

  const configurable = rng.chance(0.06);
  const doc: Doc = {
    _id: id,
    _rev: ctx.ids.rev(rng.chance(0.3) ? 2 : 1),
    type: configurable ? 'contact' : 'person',
    ...(configurable ? { contact_type: 'household_member' } : rng.chance(0.01) ? { contact_type: '' } : {}),
    name,
    short_name: '',
    date_of_birth: dob,
    date_of_birth_method: rng.pick(['calendar', 'approx', '']),
    sex,
    phone: rng.chance(0.5)
      ? phone(rng, o.script)
      : rng.chance(0.02)
        ? `07${rng.range(10, 99)} ${rng.range(100, 999)} ${rng.range(100, 999)}`
        : '',
    phone_alternate: '',
    role: o.role ?? 'patient',
    external_id: '',
    notes,
    parent,
    ephemeral_dob: {
      dob_calendar: dob,
      age_label: '',
      age_years: '',
      age_months: '',
      dob_method: '',
      dob_approx: '',
      dob_raw: dob,
      dob_iso: dob,
      dob_debug: '',
    },
    patient_id: patientId,
    meta: userMeta(o.creator.user, o.creator.personId, o.creator.placeId),
    reported_date: ctx.reportedDate(at),
  };
  if (csvStyle) {
    // cht-conf csv-to-docs: every column a string, reported_date too
    doc.reported_date = String(Math.floor(at));
    delete doc.ephemeral_dob;
  }
  if (rng.chance(0.01)) doc.muted = ctx.iso(at + rng.int(30) * DAY_MS);
  if (rng.chance(0.005))
    doc.date_of_death = rng.chance(0.5) ? ctx.day(at + rng.int(300) * DAY_MS) : Math.floor(at + rng.int(300) * DAY_MS);
  if (rng.chance(0.01)) doc.linked_docs = { chw: o.creator.personId };
  const ref: PersonRef = { id, name, patientId, dob, sex, household: o.household };
  return { ref, doc };
}
