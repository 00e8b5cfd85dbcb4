import { DAY_MS, type Doc, type GenContext } from './context';
import type { ReportRef } from './reports';
import { bulkText } from './text';

export interface UserRef {
  name: string;
  personId: string;
  placeId: string;
  districtId: string;
  deviceId: string;
}

const TASKS = [
  {
    event: 'pregnancy-home-visit-week24',
    name: 'anc.pregnancy_home_visit.known_lmp',
    title: 'task.anc.pregnancy_home_visit.title',
    icon: 'icon-pregnancy',
    form: 'pregnancy_home_visit',
    label: 'Pregnancy home visit',
  },
  {
    event: 'delivery-check',
    name: 'anc.delivery',
    title: 'task.anc.delivery.title',
    icon: 'icon-mother-child',
    form: 'delivery',
    label: 'Delivery',
  },
  {
    event: 'treatment-follow-up',
    name: 'assessment.follow_up',
    title: 'task.assessment.follow_up.title',
    icon: 'icon-follow-up',
    form: 'assessment',
    label: 'Assessment follow up',
  },
  {
    event: 'immunization-due',
    name: 'immunization.due',
    title: 'task.immunization.title',
    icon: 'icon-immunization',
    form: 'immunization_visit',
    label: 'Immunization visit',
  },
] as const;

const STATES = ['Draft', 'Ready', 'Completed', 'Failed', 'Cancelled'] as const;

/** A task doc (3.8+): one per emitted task that came due, updated as its state changes. */
export function buildTask(ctx: GenContext, report: ReportRef, user: UserRef, taken: Set<string>): Doc {
  const { rng } = ctx;
  const spec = rng.pick(TASKS);
  const emissionId = `${report.id}~${spec.event}~${spec.name}`;
  // one doc per emission and authoring instant: the same emission re-authored gets a later instant
  let authoredOn = Math.floor(report.at) + rng.range(1, 20) * DAY_MS + rng.int(DAY_MS);
  while (taken.has(`${emissionId}~${authoredOn}`)) authoredOn += 1;
  taken.add(`${emissionId}~${authoredOn}`);
  const history: Doc[] = [{ state: 'Draft', timestamp: authoredOn }];
  let state: string = rng.chance(0.3) ? 'Ready' : 'Draft';
  if (state === 'Ready') history.push({ state: 'Ready', timestamp: authoredOn + rng.range(1, 5) * DAY_MS });
  if (rng.chance(0.6)) {
    state = rng.pick(STATES.slice(2));
    history.push({ state, timestamp: authoredOn + rng.range(5, 30) * DAY_MS });
  }
  const patientId = report.patient?.id ?? report.id;
  const due = authoredOn + 7 * DAY_MS;
  return {
    _id: `task~org.couchdb.user:${user.name}~${emissionId}~${authoredOn}`,
    _rev: ctx.ids.rev(history.length),
    type: 'task',
    authoredOn,
    stateHistory: history,
    user: `org.couchdb.user:${user.name}`,
    requester: patientId,
    owner: patientId,
    emission: {
      _id: emissionId,
      title: spec.title,
      icon: spec.icon,
      deleted: false,
      resolved: state === 'Completed',
      actions: [
        { type: 'report', form: spec.form, label: spec.label, content: { source: 'task', source_id: report.id } },
      ],
      contact: { name: report.patient?.name ?? '' },
      // an invalid date is NaN in the browser, which JSON stores as null
      dueDate: ctx.edge('taskNullDate', 0.01) ? null : ctx.day(due),
      startDate: ctx.day(due - 3 * DAY_MS),
      endDate: ctx.day(due + 7 * DAY_MS),
      forId: patientId,
      ...(rng.chance(0.2) ? { priority: 'high', priorityLabel: 'task.warning.high_risk' } : {}),
    },
    state,
  };
}

/** One target doc per user per reporting month; target ids may contain `+`. */
export function buildTarget(ctx: GenContext, month: number, user: UserRef): Doc {
  const { rng } = ctx;
  const d = new Date(month);
  const period = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  const count = (id: string, key: string, goal: number): Doc => {
    const total = rng.range(0, 25);
    return {
      id,
      type: 'count',
      goal,
      translation_key: key,
      icon: 'icon-target',
      subtitle_translation_key: 'targets.this_month.subtitle',
      value: { pass: total, total },
    };
  };
  const pass = rng.range(0, 10);
  const total = pass + rng.range(0, 5);
  return {
    _id: `target~${period}~${user.personId}~org.couchdb.user:${user.name}`,
    _rev: ctx.ids.rev(ctx.edge('multiRevision', 0.5) ? rng.range(2, 15) : 1),
    type: 'target',
    user: `org.couchdb.user:${user.name}`,
    owner: user.personId,
    reporting_period: period,
    updated_date: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), rng.range(1, 28)),
    targets: [
      count('deaths-this-month', 'targets.death_reporting.deaths.title', 0),
      count('pregnancy-registrations-this-month', 'targets.anc.new_pregnancy_registrations.title', 20),
      count('active-pregnancies-1+-visits', 'targets.anc.active_pregnancies_1_visit.title', 10),
      {
        id: 'facility-deliveries',
        type: 'percent',
        goal: -1,
        translation_key: 'targets.anc.facility_deliveries.title',
        icon: 'icon-mother-child',
        subtitle_translation_key: 'targets.all_time.subtitle',
        value: { pass, total, percent: total ? Math.round((100 * pass) / total) : 0 },
      },
    ],
  };
}

const SEQ_TAIL =
  'g1AAAAG3eJzLYWBg4MhgTmHgz8tPSTV0MDQy1zMAQsMcoARTIkOS_P___7MSGXAqSVIAkkn2IFUZzIkMuUAee5pRqnGiuXkKA2dpXkpqWmZeagpu_Q4g_fGEbEkAqaqH2sIItsXAyMjM2NgUUwdOU_JYgCRDA5ACGjQfn30QlQsgKvcjfGaQZmaUmmZClM8gZhyAmHGfsG0PICrBPmQC22ZqbGRqamyIqSsLAAArcXo';

/** Sentinel's `<id>-info` doc in medic-sentinel; replication dates are "unknown", ISO or a ms number. */
export function buildInfo(ctx: GenContext, medicDoc: Doc, at: number): Doc {
  const { rng } = ctx;
  const id = String(medicDoc._id);
  let initial: string | number = ctx.iso(at + 1200);
  if (ctx.edge('infoNumberDate', 0.05)) initial = Math.floor(at + 1200);
  else if (rng.chance(0.02)) initial = 'unknown';
  const doc: Doc = {
    _id: `${id}-info`,
    _rev: ctx.ids.rev(rng.range(1, 3)),
    type: 'info',
    doc_id: id,
    initial_replication_date: initial,
    latest_replication_date: ctx.iso(at + 1200 + rng.int(3) * DAY_MS),
  };
  if (rng.chance(0.9)) {
    const rev = typeof medicDoc._rev === 'string' ? medicDoc._rev : '1-0';
    const seq = rng.chance(0.01) ? rng.range(1, 90000) : `${rng.range(1, 9_000_000)}-${SEQ_TAIL}`;
    const names =
      medicDoc.type === 'data_record'
        ? ['update_clinics', 'registration', 'default_responses']
        : medicDoc.type === 'person'
          ? ['generate_patient_id_on_people']
          : ['update_clinics'];
    doc.transitions = Object.fromEntries(
      names.map((name) => [name, { last_rev: rev, seq, ok: true, run_date: ctx.iso(at + 1500) }]),
    );
  }
  return doc;
}

const DEVICES = [
  {
    ua: 'Mozilla/5.0 (Linux; Android 10; TECNO KC8 Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.104 Mobile Safari/537.36 org.medicmobile.webapp.mobile/v1.5.2',
    manufacturer: 'TECNO',
    model: 'TECNO KC8',
    android: '10',
    api: 29,
  },
  {
    ua: 'Mozilla/5.0 (Linux; Android 12; SM-A125F Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/129.0.6668.100 Mobile Safari/537.36 org.medicmobile.webapp.mobile/v1.5.0',
    manufacturer: 'samsung',
    model: 'SM-A125F',
    android: '12',
    api: 31,
  },
  {
    ua: 'Mozilla/5.0 (Linux; Android 8.1.0; itel A16 Plus Build/OPM2.171019.012; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 org.medicmobile.webapp.mobile/v1.4.1',
    manufacturer: 'itel',
    model: 'itel A16 Plus',
    android: '8.1.0',
    api: 27,
  },
] as const;

function metric(ctx: GenContext, scale: number): Doc {
  const count = ctx.rng.range(1, 8);
  const values = Array.from({ length: count }, () => ctx.rng.next() * scale);
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    sum,
    min: Math.min(...values),
    max: Math.max(...values),
    count,
    sumsqr: values.reduce((a, b) => a + b * b, 0),
  };
}

/** A daily telemetry aggregate (medic-users-meta): metric keys with colons, floats, big integers. */
export function buildTelemetry(ctx: GenContext, day: number, user: UserRef, appVersion: string): Doc {
  const { rng } = ctx;
  const d = new Date(day);
  const device = DEVICES[user.deviceId.charCodeAt(0) % DEVICES.length] ?? DEVICES[0];
  const drift = ctx.edge('telemetryDrift', 0.02);
  return {
    _id: `telemetry-${d.getUTCFullYear()}-${d.getUTCMonth() + 1}-${d.getUTCDate()}-${user.name}-${user.deviceId}`,
    _rev: ctx.ids.rev(1),
    type: 'telemetry',
    metrics: {
      boot_time: metric(ctx, 5000),
      'boot_time:apdex:tolerable': { sum: 1, min: 1, max: 1, count: 1, sumsqr: 1 },
      'enketo:reports:assessment:add:save': metric(ctx, 1500),
      'replication:medic:from:docs': metric(ctx, 60),
      'search:contacts:types': metric(ctx, 200),
    },
    device: {
      userAgent: device.ua,
      hardwareConcurrency: 4,
      screen: { width: 360, height: 800 },
      deviceInfo: {
        app: { version: 'v1.5.2', packageName: 'org.medicmobile.webapp.mobile', versionCode: 105020100 },
        // the test-data-generator and some devices write androidVersion as a number, cpuInfo as a string
        software: {
          androidVersion: drift ? Number.parseFloat(device.android) : device.android,
          osApiLevel: device.api,
          osVersion: '4.9.190+',
        },
        hardware: {
          device: device.model,
          model: device.model,
          manufacturer: device.manufacturer,
          hardware: 'mt6761',
          cpuInfo: drift
            ? 'ARMv7 Processor rev 4 (v7l)'
            : { cores: 4, arch: 'armv7l', 'model name': 'ARMv7 Processor rev 4 (v7l)' },
        },
        storage: { free: rng.range(1e9, 9e9), total: 26175582208 },
        ram: { free: rng.range(1e8, 9e8), total: 1919627264, threshold: 150994944 },
        network: { upSpeed: rng.range(500, 5000), downSpeed: rng.range(2000, 30000) },
      },
    },
    metadata: {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      aggregate_date: ctx.iso(day + DAY_MS + rng.int(DAY_MS)),
      user: user.name,
      deviceId: user.deviceId,
      versions: {
        app: appVersion,
        forms: { pregnancy: ctx.ids.rev(8), assessment: ctx.ids.rev(3) },
        settings: ctx.ids.rev(37),
      },
    },
    dbInfo: {
      doc_count: rng.range(200, 5000),
      update_seq: rng.range(500, 20000),
      idb_attachment_format: 'binary',
      db_name: `medic-user-${user.name}`,
      auto_compaction: true,
      adapter: 'idb',
    },
  };
}

/** A feedback doc; `huge` makes one of the ≥ 1 MB documents (long console logs). */
export function buildFeedback(ctx: GenContext, at: number, user: UserRef, huge: boolean): Doc {
  const { rng } = ctx;
  const time = ctx.iso(at);
  const logs: Doc[] = [];
  const n = huge ? 260 : rng.range(1, 6);
  for (let i = 0; i < n; i++) {
    logs.push({
      level: rng.pick(['error', 'log', 'warn']),
      arguments: huge
        ? JSON.stringify([bulkText(rng, 4200)])
        : `["Replication completed", {"docs_read": ${rng.int(50)}}]`,
      time: ctx.iso(at - i * 1000),
    });
  }
  return {
    _id: `feedback-${time}-${ctx.ids.uuid7(at)}`,
    _rev: ctx.ids.rev(1),
    meta: {
      time,
      user: { name: user.name, roles: ['chw'] },
      language: rng.pick(['en', 'sw', 'ne']),
      url: `https://cht.example.org/#/reports/${ctx.ids.uuid4()}`,
      version: '5.2.0',
      source: rng.pick(['automatic', 'manual']),
      deviceId: user.deviceId,
    },
    info: rng.chance(0.8)
      ? {
          message: "Cannot read properties of undefined (reading 'fields')",
          stack:
            "TypeError: Cannot read properties of undefined (reading 'fields')\n    at t.format (https://cht.example.org/main.js:1:882311)",
        }
      : { cause: 'Replication failed', message: 'Server unreachable' },
    arguments: ['"ERROR Error: Uncaught (in promise)"', '{"name":"TypeError"}'],
    log: logs,
    type: 'feedback',
  };
}

/** user-settings in medic; facility_id is an array from CHT 4.9, a string before. */
export function buildUserSettings(
  ctx: GenContext,
  user: UserRef,
  fullname: string,
  phone: string,
  roles: string[],
): Doc {
  // branch managers are created by the current version (array); CHW accounts may predate 4.9 (string)
  const legacy = !user.name.startsWith('manager_') && ctx.edge('facilityIdString', 0.3);
  return {
    _id: `org.couchdb.user:${user.name}`,
    _rev: ctx.ids.rev(ctx.rng.range(1, 6)),
    name: user.name,
    type: 'user-settings',
    roles,
    facility_id: legacy ? user.placeId : [user.placeId],
    contact_id: user.personId,
    fullname,
    phone,
    ...(legacy ? { language: ctx.rng.pick(['en', 'sw']) } : {}),
    known: true,
  };
}

/** The `_users` doc, password hash fields included (the sync must strip them, tombstones too). */
export function buildUser(ctx: GenContext, user: UserRef, roles: string[], deleted: boolean): Doc {
  const doc: Doc = {
    _id: `org.couchdb.user:${user.name}`,
    _rev: ctx.ids.rev(deleted ? ctx.rng.range(2, 6) : ctx.rng.range(1, 5)),
    name: user.name,
    type: 'user',
    roles,
    facility_id: [user.placeId],
    contact_id: user.personId,
    known: true,
    password_change_required: false,
    password_scheme: 'pbkdf2',
    pbkdf2_prf: 'sha256',
    iterations: 600000,
    derived_key: ctx.rng.hex(64),
    salt: ctx.rng.hex(32),
  };
  if (deleted) doc._deleted = true;
  return doc;
}

/** The legacy sentinel tombstone doc (CHT ≤ 4.2) kept in medic for a deleted report. */
export function buildLegacyTombstone(ctx: GenContext, deleted: Doc): Doc {
  const rev = String(deleted._rev);
  const { _deleted: _unused, ...body } = deleted;
  return {
    _id: `${String(deleted._id)}____${rev}____tombstone`,
    _rev: ctx.ids.rev(1),
    type: 'tombstone',
    tombstone: body,
  };
}

/** Compiled JavaScript-like text for the settings doc (real ones embed ~100 KB of it). */
export function configScript(ctx: GenContext, bytes: number): string {
  return `/* compiled rules */\n${bulkText(ctx.rng, bytes)}`;
}
