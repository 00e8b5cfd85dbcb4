import { deleteRow, fixtureRawRows, type RawRow } from './raw-fixture';

/**
 * One sync batch of edits, deletes and additions on top of the fixture, all stamped with
 * one saved_timestamp (as one sync batch is). ./expected/after-changes holds the tables
 * real dbt produced from the bundled pipeline after the first build plus one incremental
 * run over these rows.
 */
export const CHANGES_TIMESTAMP = '2026-07-31 00:00:01.000001';

export const CHANGED = {
  renamedPerson: 'c563e1f2-d5f9-495a-9c17-452a792f02df',
  deletedReport: 'a7494819-2e0d-429f-84a5-c03edfd03e69',
  deletedChw: '1d39212f-6c66-441c-99e6-2b32fe4d718c',
  deletedPlace: 'f6674cdf-4c09-4967-8fee-3c11732a4852',
  deletedFullBodyReport: '0557b72b-0d5c-4cca-84ad-4d7f7cf71543',
  personBecomesPlace: '52cadb18-06b7-42f7-8b38-17e3d4150e50',
  deletedUser: 'org.couchdb.user:esther_mgr',
  deletedFeedback: 'feedback-2026-07-14T10:31:02.118Z-019f602e-1ae6-72aa-83c6-50e9618a1fb6',
  editedTelemetry: 'telemetry-2026-7-19-joyce_chw-b8a4c0de-1f5e-4c33-9f0a-5a1d0c2e7b41',
  newReport: 'new-report-1',
  newPerson: 'new-person-1',
} as const;

export function changeRows(): RawRow[] {
  const byId = new Map(fixtureRawRows().map((r) => [r._id, r]));
  const get = (id: string): RawRow => {
    const row = byId.get(id);
    if (!row) throw new Error(`fixture has no ${id}`);
    return row;
  };
  const edit = (id: string, patch: Record<string, unknown>): RawRow => {
    const row = get(id);
    return { ...row, saved_timestamp: CHANGES_TIMESTAMP, doc: { ...row.doc, ...patch } };
  };
  const fullBodyDelete = (id: string): RawRow => {
    const row = edit(id, { _deleted: true });
    return { ...row, _deleted: true };
  };
  return [
    edit(CHANGED.renamedPerson, { name: 'Renamed', _rev: '9-renamed' }),
    deleteRow(get(CHANGED.deletedReport), CHANGES_TIMESTAMP),
    deleteRow(get(CHANGED.deletedChw), CHANGES_TIMESTAMP),
    deleteRow(get(CHANGED.deletedPlace), CHANGES_TIMESTAMP),
    fullBodyDelete(CHANGED.deletedFullBodyReport),
    edit(CHANGED.personBecomesPlace, { type: 'contact', contact_type: 'village' }),
    deleteRow(get(CHANGED.deletedUser), CHANGES_TIMESTAMP),
    deleteRow(get(CHANGED.deletedFeedback), CHANGES_TIMESTAMP),
    edit(CHANGED.editedTelemetry, {
      metadata: { year: 2026, month: 8, day: 2, user: 'joyce_chw', versions: { app: '5.3.0' } },
    }),
    {
      _id: CHANGED.newReport,
      saved_timestamp: CHANGES_TIMESTAMP,
      _deleted: false,
      source: 'localhost/medic',
      doc: {
        _id: CHANGED.newReport,
        type: 'data_record',
        form: 'visit',
        reported_date: 1785456000000,
        fields: { patient_uuid: CHANGED.renamedPerson },
        contact: { _id: CHANGED.renamedPerson, parent: { _id: 'b7d30fef-2f75-46b4-a990-119943a93ec0' } },
      },
    },
    {
      _id: CHANGED.newPerson,
      saved_timestamp: CHANGES_TIMESTAMP,
      _deleted: false,
      source: 'localhost/medic',
      doc: {
        _id: CHANGED.newPerson,
        type: 'person',
        name: 'New Person',
        patient_id: '90001',
        parent: { _id: 'b7d30fef-2f75-46b4-a990-119943a93ec0' },
        reported_date: 1785456000000,
      },
    },
  ];
}
