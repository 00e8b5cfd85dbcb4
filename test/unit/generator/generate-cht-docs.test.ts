import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateChtDocs, type GeneratedDoc } from '../../../app/generator';

type Doc = Record<string, unknown>;

function collect(seed: number, docs: number): GeneratedDoc[] {
  return [...generateChtDocs({ seed, docs })];
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

function hasString(doc: Doc, test: (s: string) => boolean): boolean {
  return strings(doc).some(test);
}

const TEN_K = collect(42, 10_000);

describe('generateChtDocs', () => {
  it('is deterministic by seed', () => {
    const a = collect(7, 3000);
    const b = collect(7, 3000);
    assert.deepEqual(a, b);
    const c = collect(8, 3000);
    assert.notDeepEqual(
      a.map((d) => d.doc._id),
      c.map((d) => d.doc._id),
    );
  });

  it('yields exactly the requested count, and a shorter run is a prefix of a longer one', () => {
    assert.equal(collect(3, 0).length, 0);
    assert.equal(collect(3, 100).length, 100);
    const long = collect(3, 2500);
    assert.equal(long.length, 2500);
    assert.deepEqual(collect(3, 1000), long.slice(0, 1000));
  });

  it('keeps ids unique per database', () => {
    const ids = new Map<string, Set<string>>();
    for (const { database, doc } of TEN_K) {
      const set = ids.get(database) ?? new Set<string>();
      ids.set(database, set);
      const id = doc._id;
      assert.equal(typeof id, 'string');
      assert.ok(!set.has(id as string), `duplicate ${String(id)} in ${database}`);
      set.add(id as string);
      assert.match(String(doc._rev), /^\d+-[0-9a-f]{32}$/);
    }
  });

  it('has the proportions of cht-data-model.md §5.1 at 10k', () => {
    const byDb: Record<string, number> = {};
    const medicTypes: Record<string, number> = {};
    let deleted = 0;
    let reports = 0;
    let smsReports = 0;
    for (const { database, doc } of TEN_K) {
      byDb[database] = (byDb[database] ?? 0) + 1;
      if (doc._deleted) deleted += 1;
      if (database === 'medic' && !doc._deleted) {
        const type = String(doc.type ?? 'none');
        medicTypes[type] = (medicTypes[type] ?? 0) + 1;
        if (type === 'data_record') {
          reports += 1;
          if (doc.content_type !== 'xml') smsReports += 1;
        }
      }
    }
    const share = (n: number | undefined, of: number): number => (n ?? 0) / of;
    const medic = byDb.medic ?? 0;
    // medic-sentinel ≈ 1 info doc per medic doc
    assert.ok(
      Math.abs(share(byDb['medic-sentinel'], medic) - 0.97) < 0.05,
      `sentinel/medic ${share(byDb['medic-sentinel'], medic)}`,
    );
    // telemetry ≈ 530 per 2,160 medic docs
    assert.ok(share(byDb['medic-users-meta'], medic) > 0.15 && share(byDb['medic-users-meta'], medic) < 0.35);
    assert.ok((byDb._users ?? 0) >= 2);
    const contacts = ['person', 'clinic', 'health_center', 'district_hospital', 'contact'].reduce(
      (n, t) => n + (medicTypes[t] ?? 0),
      0,
    );
    assert.ok(share(contacts, medic) > 0.12 && share(contacts, medic) < 0.25, `contacts ${share(contacts, medic)}`);
    assert.ok(
      share(medicTypes.data_record, medic) > 0.34 && share(medicTypes.data_record, medic) < 0.46,
      `reports ${share(medicTypes.data_record, medic)}`,
    );
    assert.ok(
      share(medicTypes.task, medic) > 0.34 && share(medicTypes.task, medic) < 0.46,
      `tasks ${share(medicTypes.task, medic)}`,
    );
    assert.ok((medicTypes.target ?? 0) > 10);
    // ~95 % app forms, ~5 % SMS
    assert.ok(
      share(smsReports, reports) > 0.02 && share(smsReports, reports) < 0.09,
      `sms ${share(smsReports, reports)}`,
    );
    // ~1–2 % of all docs deleted
    assert.ok(
      share(deleted, TEN_K.length) > 0.008 && share(deleted, TEN_K.length) < 0.025,
      `deleted ${share(deleted, TEN_K.length)}`,
    );
  });

  it('plants every edge case of cht-data-model.md §5.5 within 10k docs', () => {
    const medicIds = new Set(TEN_K.filter((d) => d.database === 'medic').map((d) => String(d.doc._id)));
    const medic = TEN_K.filter((d) => d.database === 'medic').map((d) => d.doc);
    const all = TEN_K.map((d) => d.doc);
    const isRecord = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
    const checks: Record<string, () => boolean> = {
      nul: () => all.some((d) => hasString(d, (s) => s.includes('\u0000'))),
      backslash: () => all.some((d) => hasString(d, (s) => s.includes('\\') && !s.includes('\\u0000'))),
      literalEscapeText: () => all.some((d) => hasString(d, (s) => s.includes('\\u0000'))),
      devanagari: () => all.some((d) => hasString(d, (s) => /[\u0900-\u097F]/.test(s))),
      arabic: () => all.some((d) => hasString(d, (s) => /[\u0600-\u06FF]/.test(s))),
      ethiopic: () => all.some((d) => hasString(d, (s) => /[\u1200-\u137F]/.test(s))),
      emoji: () => all.some((d) => hasString(d, (s) => /\p{Extended_Pictographic}/u.test(s))),
      zeroWidthSpace: () => all.some((d) => hasString(d, (s) => s.includes('\u200b'))),
      hugeDoc: () => TEN_K.some((d) => JSON.stringify(d.doc).length >= 1_000_000),
      reportedDateNumericString: () =>
        medic.some((d) => typeof d.reported_date === 'string' && /^\d{13}$/.test(d.reported_date)),
      reportedDateIso: () =>
        medic.some((d) => typeof d.reported_date === 'string' && /^\d{4}-\d\d-\d\dT/.test(d.reported_date)),
      reportedDateMissing: () =>
        medic.some(
          (d) => (d.type === 'person' || d.type === 'data_record' || d.type === 'clinic') && !('reported_date' in d),
        ),
      facilityIdArray: () => medic.some((d) => d.type === 'user-settings' && Array.isArray(d.facility_id)),
      facilityIdString: () => medic.some((d) => d.type === 'user-settings' && typeof d.facility_id === 'string'),
      patientIdNumber: () => medic.some((d) => typeof d.patient_id === 'number'),
      patientIdLeadingZero: () => medic.some((d) => typeof d.patient_id === 'string' && d.patient_id.startsWith('0')),
      emptyStringNumber: () =>
        medic.some(
          (d) =>
            isRecord(d.fields) && strings(d.fields).length > 0 && JSON.stringify(d.fields).includes('"muac_score":""'),
        ),
      boolAsString: () =>
        medic.some(
          (d) =>
            isRecord(d.fields) &&
            ['true', 'false', 'FALSE', 'yes'].includes(String(d.fields.treatment_follow_up)) &&
            d.fields.treatment_follow_up !== 'true',
        ),
      malformedDate: () =>
        medic.some(
          (d) =>
            typeof d.date_of_birth === 'string' &&
            (d.date_of_birth === '' ||
              !/^\d{4}-\d\d-\d\d$/.test(d.date_of_birth) ||
              Number.isNaN(Date.parse(d.date_of_birth)) ||
              new Date(d.date_of_birth).toISOString().slice(0, 10) !== d.date_of_birth),
        ),
      danglingParent: () =>
        medic.some((d) => isRecord(d.parent) && typeof d.parent._id === 'string' && !medicIds.has(d.parent._id)),
      danglingContact: () =>
        medic.some(
          (d) =>
            d.type === 'data_record' &&
            isRecord(d.contact) &&
            typeof d.contact._id === 'string' &&
            !medicIds.has(d.contact._id),
        ),
      hydratedLineage: () => medic.some((d) => isRecord(d.parent) && typeof d.parent.type === 'string'),
      emptyParent: () => medic.some((d) => d.parent === ''),
      stringContact: () =>
        medic.some(
          (d) => d.contact === '{}' || d.contact === '' || (isRecord(d.contact) && Object.keys(d.contact).length === 0),
        ),
      typelessDocs: () =>
        medic.some((d) => d._id === 'settings' && d.type === undefined) &&
        medic.some((d) => String(d._id).startsWith('_design/')),
      deleteStub: () => medic.some((d) => d._deleted === true && Object.keys(d).length === 3),
      deleteFullBody: () => medic.some((d) => d._deleted === true && typeof d.type === 'string'),
      usersWithHash: () =>
        TEN_K.some(
          (d) =>
            d.database === '_users' &&
            !d.doc._deleted &&
            typeof d.doc.derived_key === 'string' &&
            typeof d.doc.salt === 'string' &&
            d.doc.pbkdf2_prf === 'sha256',
        ),
      usersTombstoneWithHash: () =>
        TEN_K.some((d) => d.database === '_users' && d.doc._deleted === true && typeof d.doc.derived_key === 'string'),
      sharedIdAcrossDatabases: () => TEN_K.some((d) => d.database === '_users' && medicIds.has(String(d.doc._id))),
      legacyReport: () =>
        medic.some((d) => typeof d.content === 'string' && Array.isArray(d.read) && isRecord(d.transitions)),
      legacyTombstone: () => medic.some((d) => d.type === 'tombstone' && isRecord(d.tombstone)),
      idFormats: () =>
        medic.some((d) => /^019[0-9a-f]{5}-[0-9a-f]{4}-7/.test(String(d._id))) &&
        medic.some((d) => /^[0-9a-f]{32}$/.test(String(d._id))) &&
        medic.some((d) => /-5[0-9a-f]{3}-/.test(String(d._id))) &&
        medic.some((d) => /^[0-9A-F]{8}-/.test(String(d._id))),
      multiRevision: () => medic.some((d) => Number.parseInt(String(d._rev), 10) >= 5),
      taskNullDueDate: () =>
        medic.some((d) => d.type === 'task' && isRecord(d.emission) && d.emission.dueDate === null),
      targetPlusId: () => medic.some((d) => d.type === 'target' && JSON.stringify(d.targets).includes('1+-visits')),
      telemetryColonKeys: () =>
        all.some(
          (d) => d.type === 'telemetry' && isRecord(d.metrics) && Object.keys(d.metrics).some((k) => k.includes(':')),
        ),
      telemetryTypeDrift: () =>
        all.some(
          (d) =>
            d.type === 'telemetry' &&
            typeof (d.device as { deviceInfo: { software: { androidVersion: unknown } } }).deviceInfo.software
              .androidVersion === 'number',
        ),
      bigInteger: () => all.some((d) => d.type === 'telemetry' && JSON.stringify(d).includes('26175582208')),
      infoNumberDate: () =>
        TEN_K.some((d) => d.database === 'medic-sentinel' && typeof d.doc.initial_replication_date === 'number'),
      infoIntegerSeq: () =>
        TEN_K.some(
          (d) => d.database === 'medic-sentinel' && JSON.stringify(d.doc.transitions ?? {}).match(/"seq":\d/) !== null,
        ),
      smsUnknownSender: () =>
        medic.some((d) => d.type === 'data_record' && isRecord(d.sms_message) && d.contact === undefined),
      outgoingMessage: () => medic.some((d) => d.kujua_message === true && d.form === null),
      freeTextSms: () => medic.some((d) => d.type === 'data_record' && isRecord(d.sms_message) && !('form' in d)),
      inlineAttachment: () => medic.some((d) => isRecord(d._attachments)),
      feedback: () => all.some((d) => d.type === 'feedback'),
      configurableContactType: () =>
        medic.some((d) => d.type === 'contact' && typeof d.contact_type === 'string' && d.contact_type !== ''),
    };
    const missing = Object.entries(checks)
      .filter(([, check]) => !check())
      .map(([name]) => name);
    assert.deepEqual(missing, []);
  });

  it('streams: memory stays flat while iterating 200k documents', () => {
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let n = 0;
    let peak = before;
    for (const { doc } of generateChtDocs({ seed: 11, docs: 200_000 })) {
      n += doc._id ? 1 : 0;
      if (n % 20_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    assert.equal(n, 200_000);
    // 200k docs are ~250 MB of JSON; holding them would grow the heap by far more than this
    assert.ok(peak - before < 120 * 1024 * 1024, `heap grew by ${Math.round((peak - before) / 1048576)} MB`);
  });
});
