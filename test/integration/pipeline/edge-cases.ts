import type { RawRow } from './raw-fixture';

/**
 * Documents with the odd values real CHT databases hold (cht-data-model.md §5.5), each
 * with the values the bundled pipeline must produce for it. One of these failing a cast
 * would fail the whole model run, so the tests load them all at once.
 * Timestamps are UTC ISO strings as PostgreSQL prints them under TimeZone=UTC via to_json.
 */

export interface EdgeCase {
  doc: Record<string, unknown>;
  source?: string;
  /** expected row values, per table, for this doc's uuid (null = no row expected) */
  expect: Record<string, Record<string, unknown> | null>;
}

const PARENT = { _id: 'e41b66d4-13c6-4bdc-a996-431cfcb2185a' };

function person(id: string, extra: Record<string, unknown>): Record<string, unknown> {
  return { _id: id, _rev: '1-a', type: 'person', name: `Edge ${id}`, parent: PARENT, ...extra };
}

export const EDGE_CASES: EdgeCase[] = [
  // reported_date variants
  {
    doc: person('edge-rd-number', { reported_date: 1784728879402 }),
    expect: { contact: { reported: '2026-07-22T14:01:19.402+00:00' } },
  },
  {
    doc: person('edge-rd-numstring', { reported_date: ' 1530976152000 ' }),
    expect: { contact: { reported: '2018-07-07T15:09:12+00:00' } },
  },
  {
    doc: person('edge-rd-iso', { reported_date: '2026-07-22T14:01:19.402Z' }),
    expect: { contact: { reported: '2026-07-22T14:01:19.402+00:00' } },
  },
  {
    doc: person('edge-rd-iso-offset', { reported_date: '2026-07-22T17:01:19+03:00' }),
    expect: { contact: { reported: '2026-07-22T14:01:19+00:00' } },
  },
  {
    doc: person('edge-rd-iso-nozone', { reported_date: '2026-07-22 14:01:19' }),
    expect: { contact: { reported: '2026-07-22T14:01:19+00:00' } },
  },
  {
    doc: person('edge-rd-date', { reported_date: '2026-07-22' }),
    expect: { contact: { reported: '2026-07-22T00:00:00+00:00' } },
  },
  {
    doc: person('edge-rd-impossible', { reported_date: '2026-02-30T10:00:00Z' }),
    expect: { contact: { reported: null } },
  },
  { doc: person('edge-rd-malformed', { reported_date: '1990-0-3' }), expect: { contact: { reported: null } } },
  { doc: person('edge-rd-ddmmyyyy', { reported_date: '22/07/2026' }), expect: { contact: { reported: null } } },
  { doc: person('edge-rd-empty', { reported_date: '' }), expect: { contact: { reported: null } } },
  { doc: person('edge-rd-huge', { reported_date: 1e20 }), expect: { contact: { reported: null } } },
  { doc: person('edge-rd-object', { reported_date: { $date: 1 } }), expect: { contact: { reported: null } } },
  { doc: person('edge-rd-bool', { reported_date: true }), expect: { contact: { reported: null } } },
  { doc: person('edge-rd-missing', {}), expect: { contact: { reported: null } } },
  // parent / contact given as "", "{}", {}, a hydrated doc, an array
  { doc: person('edge-parent-empty', { parent: '' }), expect: { contact: { parent_uuid: null } } },
  { doc: person('edge-parent-string-obj', { parent: '{}' }), expect: { contact: { parent_uuid: null } } },
  { doc: person('edge-parent-obj-empty', { parent: {} }), expect: { contact: { parent_uuid: null } } },
  { doc: person('edge-parent-array', { parent: ['x'] }), expect: { contact: { parent_uuid: null } } },
  { doc: person('edge-parent-id-empty', { parent: { _id: '' } }), expect: { contact: { parent_uuid: null } } },
  // "" → NULL; booleans as strings; muted as an ISO string or a boolean
  {
    doc: person('edge-empties', {
      name: '',
      notes: '',
      sex: '',
      phone: '',
      patient_id: '',
      is_active: 'false',
      muted: '2026-05-02T09:13:44.512Z',
    }),
    expect: {
      contact: { name: null, notes: null, active: 'false', muted: '2026-05-02T09:13:44.512Z' },
      person: { sex: null, phone: null, patient_id: null },
      patient: null,
    },
  },
  {
    doc: person('edge-muted-bool', { muted: true, patient_id: 49931, phone_alternate: '+254700000001' }),
    expect: {
      contact: { muted: 'true' },
      person: { patient_id: '49931', phone2: '+254700000001' },
      patient: { patient_id: '49931' },
    },
  },
  // hard-coded type with contact_type "" is that type (cht-core's rule)
  {
    doc: person('edge-ct-empty', { contact_type: '' }),
    expect: { contact: { contact_type: 'person' }, person: {}, place: null },
  },
  // a configurable type nobody configured is a place
  {
    doc: { _id: 'edge-ct-unknown', type: 'contact', contact_type: 'mystery_type', name: 'Mystery', contact: '{}' },
    expect: { contact: { contact_type: 'mystery_type' }, place: { contact_id: null }, person: null },
  },
  // places: contact given as "" or as an object; contact_id wins
  {
    doc: {
      _id: 'edge-place-contact-obj',
      type: 'clinic',
      name: 'C1',
      contact: { _id: 'c-1', parent: { _id: 'edge-place-contact-obj' } },
    },
    expect: { place: { contact_id: 'c-1' } },
  },
  {
    doc: { _id: 'edge-place-contact-empty', type: 'clinic', name: 'C2', contact: '', place_id: '' },
    expect: { place: { contact_id: null, place_id: null } },
  },
  // docs with no type at all
  { doc: { _id: 'edge-typeless', value: 1 }, expect: { document_metadata: { doc_type: null }, contact: null } },
  { doc: { _id: 'edge-type-empty', type: '' }, expect: { document_metadata: { doc_type: null } } },
  // reports: contact as "{}" string, fields as a string, patient_id in fields, ISO reported_date
  {
    doc: {
      _id: 'edge-report-odd',
      type: 'data_record',
      form: '',
      from: '',
      contact: '{}',
      fields: 'oops',
      reported_date: '2026-07-22T14:01:19Z',
    },
    expect: {
      data_record: {
        form: null,
        from_phone: null,
        contact_uuid: null,
        parent_uuid: null,
        grandparent_uuid: null,
        patient_id: null,
        reported: '2026-07-22T14:01:19+00:00',
      },
    },
  },
  {
    doc: {
      _id: 'edge-report-fields',
      type: 'data_record',
      form: 'visit',
      patient_id: '',
      fields: { patient_id: '', patient_uuid: 'p-uuid', place_id: 777 },
      contact: { _id: 'c1', parent: '' },
      reported_date: '1784728879402',
    },
    expect: {
      data_record: {
        patient_id: 'p-uuid',
        place_id: '777',
        contact_uuid: 'c1',
        parent_uuid: null,
        reported: '2026-07-22T14:01:19.402+00:00',
      },
    },
  },
  // user-settings: facility_id as array, string, empty array; contact_id ""
  {
    doc: {
      _id: 'org.couchdb.user:edge1',
      type: 'user-settings',
      contact_id: '',
      facility_id: ['f-1', 'f-2'],
      roles: ['chw'],
    },
    expect: { user: { contact_uuid: 'f-1', roles: '["chw"]', language: null } },
  },
  {
    doc: { _id: 'org.couchdb.user:edge2', type: 'user-settings', facility_id: 'f-3', language: '' },
    expect: { user: { contact_uuid: 'f-3', language: null } },
  },
  {
    doc: { _id: 'org.couchdb.user:edge3', type: 'user-settings', facility_id: [] },
    expect: { user: { contact_uuid: null } },
  },
  // telemetry: legacy zero-based month, missing day, malformed month, impossible date
  {
    doc: {
      _id: 'telemetry-edge-legacy',
      type: 'telemetry',
      metadata: { year: 2019, month: 0, user: 'u', versions: { app: '3.7.1' } },
      device: { deviceInfo: { storage: { total: 26175582208 } } },
    },
    expect: {
      telemetry: { period_start: '2019-01-01T00:00:00+00:00', app_version: '3.7.1' },
      telemetry_devices: { storage_total: '26175582208', period_start: '2019-01-01T00:00:00+00:00' },
    },
  },
  {
    doc: {
      _id: 'telemetry-edge-modern',
      type: 'telemetry',
      metadata: { year: '2026', month: '7', day: 31, versions: { app: 'v4.10.0' } },
    },
    expect: { telemetry: { period_start: '2026-07-31T00:00:00+00:00' } },
  },
  {
    doc: { _id: 'telemetry-edge-badmonth', type: 'telemetry', metadata: { year: 2026, month: 'July', day: 3 } },
    expect: { telemetry: { period_start: null }, telemetry_devices: { period_start: null } },
  },
  {
    doc: {
      _id: 'telemetry-edge-feb30',
      type: 'telemetry',
      metadata: { year: 2026, month: 2, day: 30, versions: { app: '4.1.0' } },
    },
    expect: { telemetry: { period_start: null } },
  },
  {
    doc: { _id: 'telemetry-edge-nometa', type: 'telemetry', metadata: 'x' },
    expect: { telemetry: { period_start: null, user_name: null } },
  },
  // feedback with info as a plain string
  {
    doc: { _id: 'feedback-edge', type: 'feedback', meta: { time: '', user: { name: 'u' } }, info: 'just text' },
    expect: { feedback: { period_start: null, cause: 'just text', message: null, user_name: 'u' } },
  },
  // a deleted doc that still carries its full body and type
  {
    doc: person('edge-deleted-full', { _deleted: true }),
    expect: { document_metadata: { _deleted: true, doc_type: 'person' }, contact: null, person: null },
  },
];

export function edgeCaseRows(savedTimestamp: string): RawRow[] {
  return EDGE_CASES.map(({ doc, source }) => ({
    _id: String(doc._id),
    saved_timestamp: savedTimestamp,
    _deleted: doc._deleted === true,
    source: source ?? 'localhost/medic',
    doc,
  }));
}

/** A settings doc whose contact_types hold odd values; none may fail contact_type. */
export const ODD_SETTINGS: Record<string, unknown> = {
  _id: 'settings',
  settings: {
    contact_types: [
      { id: 'district_hospital' },
      { id: 'household_member', person: 'yes' },
      { id: 'odd_person_flag', person: 'maybe' },
      { id: 'numeric_flag', person: 1 },
      { person: true },
      'not-an-object',
      { id: '' },
      { id: 'household_member', person: true },
    ],
  },
};
