import type { Lineage, PersonRef } from './contacts';
import { DAY_MS, type Doc, type GenContext } from './context';
import { bulkText, smsText } from './text';

export interface Reporter {
  personId: string;
  name: string;
  phone: string;
  user: string;
  /** The CHW's own lineage (person → area → branch). */
  lineage: Lineage;
}

export interface ReportRef {
  id: string;
  form: string;
  patient: PersonRef | null;
  at: number;
}

const APP_FORMS = [
  'assessment',
  'pregnancy_home_visit',
  'pregnancy',
  'immunization_visit',
  'delivery',
  'death_report',
] as const;
const APP_WEIGHTS = [0.32, 0.26, 0.16, 0.15, 0.09, 0.02];

function yesNo(ctx: GenContext): string {
  return ctx.rng.chance(0.8) ? 'no' : 'yes';
}

function geolocation(ctx: GenContext, at: number): Doc {
  const { rng } = ctx;
  const recording = rng.chance(0.2)
    ? { code: 1, message: 'User denied Geolocation' }
    : {
        latitude: -1.1 - rng.next() * 0.2,
        longitude: 36.9 + rng.next() * 0.2,
        altitude: 1500 + rng.next() * 80,
        accuracy: 5 + rng.next() * 20,
        altitudeAccuracy: null,
        heading: null,
        speed: null,
      };
  return { geolocation_log: [{ timestamp: Math.floor(at) + 412, recording }], geolocation: recording };
}

function inputs(ctx: GenContext, patient: PersonRef, reporter: Reporter, source: string, sourceId: string): Doc {
  return {
    meta: { location: { lat: '', long: '', error: '', message: '' }, deprecatedID: '' },
    source,
    source_id: sourceId,
    user: { contact_id: reporter.personId, parent: { _id: reporter.lineage.parent?._id ?? '' } },
    contact: {
      _id: patient.id,
      name: patient.name,
      short_name: '',
      patient_id: patient.patientId,
      date_of_birth: patient.dob,
      sex: patient.sex,
      parent: { _id: patient.household.id, parent: { contact: { chw_name: reporter.name, phone: reporter.phone } } },
    },
  };
}

function appFields(ctx: GenContext, form: string, at: number, patient: PersonRef, reporter: Reporter): Doc {
  const { rng } = ctx;
  const patientFields = { patient_uuid: patient.id, patient_id: patient.patientId, patient_name: patient.name };
  const age = rng.range(15, 45);
  const data = {
    meta: {
      __patient_uuid: patient.id,
      __patient_id: patient.patientId,
      __household_uuid: patient.household.id,
      __source: 'contact',
      __source_id: '',
    },
  };
  const meta = { instanceID: `uuid:${ctx.ids.uuid4()}`, deprecatedID: '' };
  switch (form) {
    case 'pregnancy': {
      const lmp = at - rng.range(40, 200) * DAY_MS;
      const edd = lmp + 280 * DAY_MS;
      const weeks = Math.floor((at - lmp) / (7 * DAY_MS));
      return {
        inputs: inputs(ctx, patient, reporter, 'contact', ''),
        patient_age_in_years: String(age),
        ...patientFields,
        patient_short_name: 'the woman',
        patient_short_name_start: 'The woman',
        lmp_date_8601: ctx.day(lmp),
        edd_8601: ctx.day(edd),
        days_since_lmp: String(Math.floor((at - lmp) / DAY_MS)),
        weeks_since_lmp: String(weeks),
        weeks_since_lmp_rounded: String(weeks),
        lmp_method_approx: yesNo(ctx),
        hiv_status_known: yesNo(ctx),
        deworming_med_received: '',
        tt_received: yesNo(ctx),
        t_pregnancy_follow_up_date: `${ctx.day(at + 14 * DAY_MS)}T00:00:00.000+03:00`,
        t_pregnancy_follow_up: 'yes',
        gestational_age: {
          register_method: { register_note: '', lmp_method: 'method_lmp' },
          method_lmp: { u_lmp_date: ctx.day(lmp) },
          g_lmp_date_8601: ctx.day(lmp),
          g_edd_8601: ctx.day(edd),
        },
        anc_visits_hf: {
          anc_visits_hf_past: {
            visited_hf_count: '1',
            visited_dates_group: {
              visited_dates_count: '1',
              visited_dates: [{ visited_date_single: ctx.day(at - 20 * DAY_MS) }],
            },
          },
        },
        risk_factors: {
          risk_factors_history: { first_pregnancy: yesNo(ctx), previous_miscarriage: yesNo(ctx) },
          risk_factors_present: { secondary_condition: 'none', additional_risk_check: 'no' },
          r_risk_factor_present: 'no',
        },
        danger_signs: {
          vaginal_bleeding: yesNo(ctx),
          fits: yesNo(ctx),
          severe_abdominal_pain: yesNo(ctx),
          severe_headache: yesNo(ctx),
          very_pale: yesNo(ctx),
          fever: yesNo(ctx),
          reduced_or_no_fetal_movements: 'no',
          breaking_water: 'no',
          easily_tired: 'no',
          face_hand_swelling: 'no',
          breathlessness: 'no',
          r_danger_sign_present: 'no',
        },
        safe_pregnancy_practices: {
          malaria: { uses_llin: 'yes' },
          iron_folate: { iron_folate_daily: 'yes' },
          request_services: 'no',
        },
        summary: {
          r_submit_note: '',
          next_visit_weeks: '2',
          edd_summary: ctx.day(edd),
          custom_translations: { custom_woman_label_translator: 'woman', custom_woman_label: 'the woman' },
        },
        data: {
          __lmp_method: 'method_lmp',
          __lmp_date: ctx.day(lmp),
          __edd: ctx.day(edd),
          __has_danger_sign: 'no',
          ...data,
        },
        meta,
      };
    }
    case 'pregnancy_home_visit':
      return {
        inputs: inputs(ctx, patient, reporter, 'task', ''),
        ...patientFields,
        patient_age_in_years: rng.chance(0.5) ? age : String(age),
        weeks_since_lmp: Math.round(rng.float(4, 40) * 100) / 100,
        anc_visits_hf: {
          anc_visits_hf_past: {
            report_other_visits: 'yes',
            visited_dates_count: '2',
            visited_dates: [{ visited_date: ctx.day(at - 40 * DAY_MS) }, { visited_date: ctx.day(at - 10 * DAY_MS) }],
          },
        },
        danger_signs: { vaginal_bleeding: yesNo(ctx), fever: yesNo(ctx), r_danger_sign_present: yesNo(ctx) },
        g_nutrition_screening: {
          muac_score: ctx.edge('emptyNumber', 0.02) ? '' : Math.round(rng.float(18, 30) * 10) / 10,
          mother_weight: Math.round(rng.float(45, 90) * 10) / 10,
          last_food: [['milk', 'eggs']],
        },
        group_risk_factors: { gravida: rng.range(1, 6), parity: rng.range(0, 5), g_risk_factors: ['r8'] },
        data,
        meta,
      };
    case 'delivery':
      return {
        inputs: inputs(ctx, patient, reporter, 'contact', ''),
        ...patientFields,
        patient_age_in_years: String(age),
        condition: { woman_outcome: 'alive_well' },
        delivery_outcome: {
          babies_delivered: '1',
          babies_alive: '1',
          delivery_date: ctx.day(at - DAY_MS),
          delivery_place: rng.pick(['health_facility', 'home']),
          delivery_mode: 'vaginal',
        },
        babys_condition: {
          baby_repeat_count: '1',
          baby_repeat: [
            {
              baby_details: {
                baby_condition: 'alive_well',
                baby_sex: rng.pick(['male', 'female']),
                birth_weight: String(rng.range(2200, 4200)),
                breastfeeding: 'yes',
                child_doc: ctx.ids.uuid4(),
              },
            },
          ],
          r_baby_danger_sign_present_any: 'no',
        },
        pnc_visits: { pnc_visits_attended: 'within_24_hrs', pnc_visits_additional: '0' },
        data,
        meta,
      };
    case 'death_report':
      return {
        inputs: inputs(ctx, patient, reporter, 'contact', ''),
        ...patientFields,
        death_details: {
          date_of_death: ctx.day(at - rng.int(5) * DAY_MS),
          place_of_death: rng.pick(['home', 'health_facility']),
          death_information: rng.pick(['توفيت في المنزل', 'Alikufa nyumbani', 'घरमा मृत्यु']),
        },
        meta,
      };
    case 'immunization_visit':
      // cht-conf / legacy style: every value a string
      return {
        inputs: {
          source: 'contact',
          contact: { _id: patient.id, name: patient.name, date_of_birth: patient.dob, sex: patient.sex },
        },
        patient_age_in_years: String(rng.range(0, 5)),
        patient_uuid: patient.id,
        patient_name: patient.name,
        visit_confirmed: 'yes',
        vaccines_received: {
          received_bcg: yesNo(ctx),
          received_polio_0: yesNo(ctx),
          received_penta_1: yesNo(ctx),
          received_flu: 'no',
        },
        group_select_vaccines: { g_vaccines: 'bcg polio penta' },
        meta: { instanceID: meta.instanceID },
      };
    default:
      // assessment: patient_id only in fields, numbers as strings, "" where a number belongs
      return {
        inputs: {
          meta: { location: { lat: '-1.14561', long: '36.96118', error: '', message: '' } },
          source: 'task',
          source_id: '',
          contact: {
            _id: patient.id,
            name: patient.name,
            date_of_birth: patient.dob,
            sex: patient.sex,
            parent: { _id: patient.household.id },
          },
        },
        patient_id: patient.patientId,
        patient_age_in_days: String(rng.range(0, 1800)),
        patient_age_in_years: String(rng.range(0, 5)),
        group_fever: {
          patient_fever: yesNo(ctx),
          fever_duration: String(rng.range(0, 5)),
          patient_temperature: (36 + rng.next() * 4).toFixed(1),
          mrdt_result: rng.pick(['negative', 'positive', 'not_done']),
        },
        group_nutrition_assessment: {
          muac_score: ctx.edge('emptyNumber', 0.05) ? '' : String(rng.range(10, 16)),
          has_oedema: 'no',
        },
        group_diagnosis: { diagnosis_fever: rng.pick(['fever_no_malaria', 'malaria', 'none']) },
        treatment_follow_up: ctx.edge('boolString', 0.05) ? rng.pick(['true', 'false', 'FALSE', 'yes']) : 'true',
        referral_follow_up: 'false',
        meta: { instanceID: `uuid:${ctx.ids.uuid4()}` },
      };
  }
}

function pickForm(ctx: GenContext): string {
  let r = ctx.rng.next();
  for (let i = 0; i < APP_FORMS.length; i++) {
    r -= APP_WEIGHTS[i] ?? 0;
    if (r < 0) return APP_FORMS[i] ?? 'assessment';
  }
  return 'assessment';
}

function contactOf(ctx: GenContext, reporter: Reporter): unknown {
  if (ctx.edge('danglingContact', 0.002))
    return { _id: ctx.ids.uuid4(), parent: { _id: 'hc1', parent: { _id: 'dist1' } } };
  return reporter.lineage;
}

/** An app-form report (~95 % of reports) as Enketo saves it. */
export function buildAppReport(
  ctx: GenContext,
  at: number,
  patient: PersonRef,
  reporter: Reporter,
): { ref: ReportRef; doc: Doc } {
  const { rng } = ctx;
  const legacy = ctx.edge('legacyReport', 0.003);
  const form = legacy ? 'pregnancy_visit' : pickForm(ctx);
  const id = legacy ? ctx.ids.couch32() : ctx.docId(at);
  const doc: Doc = {
    _id: id,
    _rev: ctx.ids.rev(rng.chance(0.05) ? 2 : 1),
    form,
    type: 'data_record',
    content_type: 'xml',
    from: reporter.phone,
    contact: contactOf(ctx, reporter),
  };
  if (legacy) {
    doc.content = `<${form} xmlns:jr="http://openrosa.org/javarosa" id="${form}" version="2017-05-23"><inputs><source>user</source><contact><_id>${patient.id}</_id></contact></inputs><patient_id>${String(patient.patientId)}</patient_id><visit_confirmed>yes</visit_confirmed></${form}>`;
    doc.fields = { patient_id: patient.patientId, visit_confirmed: 'yes' };
    doc.read = [reporter.user];
    doc.transitions = { update_clinics: { last_rev: 2, seq: rng.range(100, 99999), ok: true } };
    doc.reported_date = Math.floor(at);
    return { ref: { id, form, patient, at }, doc };
  }
  doc.form_version = { time: 1761841200000, sha256: rng.hex(64) };
  doc.hidden_fields = ['inputs', 'patient_uuid', 'patient_id', 'data', 'meta'];
  doc.fields = appFields(ctx, form, at, patient, reporter);
  doc.reported_date = ctx.reportedDate(at);
  Object.assign(doc, geolocation(ctx, at));
  if (ctx.edge('attachmentInline', 0.002)) {
    // uploaded inline; CouchDB returns a stub {content_type, revpos, digest, length, stub} in the feed
    doc._attachments = {
      'user-file-muac_photo.jpg': {
        content_type: 'image/jpeg',
        data: Buffer.from(`not really a jpeg ${rng.hex(16)}`).toString('base64'),
      },
    };
  }
  return { ref: { id, form, patient, at }, doc };
}

/** A report with a large repeat group: one of the ≥ 1 MB documents a sync must carry. */
export function buildHugeReport(ctx: GenContext, at: number, patient: PersonRef, reporter: Reporter): Doc {
  const visits: Doc[] = [];
  let bytes = 0;
  while (bytes < 1_150_000) {
    const v = {
      visited_date: ctx.day(at - ctx.rng.int(900) * DAY_MS),
      notes: bulkText(ctx.rng, 400),
      household_member: ctx.ids.uuid4(),
    };
    visits.push(v);
    bytes += 520;
  }
  return {
    _id: ctx.docId(at),
    _rev: ctx.ids.rev(1),
    form: 'household_survey',
    type: 'data_record',
    content_type: 'xml',
    from: reporter.phone,
    contact: reporter.lineage,
    fields: {
      patient_uuid: patient.id,
      patient_id: patient.patientId,
      visits_count: String(visits.length),
      visits,
      meta: { instanceID: `uuid:${ctx.ids.uuid4()}` },
    },
    reported_date: Math.floor(at),
  };
}

function smsTasks(ctx: GenContext, at: number, to: string, message: string, state: string): Doc[] {
  return [
    {
      messages: [{ to, message, uuid: ctx.ids.uuid4() }],
      state,
      state_history: [
        { state: 'pending', timestamp: ctx.iso(at + 100) },
        { state, timestamp: ctx.iso(at + 60_000) },
      ],
    },
  ];
}

/** SMS reports and messages (~5 % of reports): registrations, free text, outgoing, unknown senders. */
export function buildSmsReport(
  ctx: GenContext,
  at: number,
  patient: PersonRef,
  reporter: Reporter,
): { ref: ReportRef; doc: Doc } {
  const { rng } = ctx;
  const id = ctx.docId(at);
  const t = Math.floor(at);
  const kind = rng.pick(['registration', 'registration', 'free_text', 'outgoing', 'unknown']);
  const sms = (message: string, form: string, from: string): Doc => ({
    message_id: String(rng.range(1000, 99999)),
    sent_timestamp: String(t),
    message,
    from,
    type: 'sms_message',
    form,
    locale: rng.pick(['en', 'sw']),
    gateway_ref: ctx.ids.uuid4(),
  });
  let doc: Doc;
  if (kind === 'registration') {
    const lmpWeeks = rng.range(4, 30);
    doc = {
      _id: id,
      _rev: ctx.ids.rev(rng.range(2, 5)),
      type: 'data_record',
      from: reporter.phone,
      form: 'P',
      errors: [],
      tasks: smsTasks(
        ctx,
        at,
        reporter.phone,
        `Thank you. Pregnancy for ${patient.name} (${String(patient.patientId)}) registered.`,
        'delivered',
      ),
      scheduled_tasks: [
        {
          due: ctx.iso(at + 30 * DAY_MS),
          group: 1,
          type: 'ANC Reminders LMP',
          translation_key: 'anc.reminder.1',
          messages: [
            {
              to: reporter.phone,
              message: `Please remind ${patient.name} to visit the health facility this week.`,
              uuid: ctx.ids.uuid4(),
            },
          ],
          state: 'scheduled',
          state_history: [{ state: 'scheduled', timestamp: ctx.iso(at) }],
        },
      ],
      fields: { last_menstrual_period: lmpWeeks, patient_name: patient.name },
      sms_message: sms(`1!P!${lmpWeeks}#${patient.name}`, 'P', reporter.phone),
      contact: reporter.lineage,
      reported_date: t,
      locale: 'en',
      patient_id: patient.patientId,
      lmp_date: ctx.iso(at - lmpWeeks * 7 * DAY_MS),
      expected_date: ctx.iso(at + (40 - lmpWeeks) * 7 * DAY_MS),
    };
  } else if (kind === 'free_text') {
    const text = smsText(rng);
    doc = {
      _id: id,
      _rev: ctx.ids.rev(1),
      type: 'data_record',
      from: reporter.phone,
      errors: [],
      tasks: [],
      fields: {},
      sms_message: sms(text, (text.split(' ')[0] ?? '').toUpperCase(), reporter.phone),
      contact: reporter.lineage,
      reported_date: t,
    };
  } else if (kind === 'outgoing') {
    doc = {
      _id: id,
      _rev: ctx.ids.rev(rng.range(1, 3)),
      errors: [],
      form: null,
      from: reporter.phone,
      reported_date: t,
      tasks: smsTasks(ctx, at, reporter.phone, `Tafadhali mtembelee ${patient.name} leo. Asante!`, 'sent'),
      kujua_message: true,
      type: 'data_record',
      sent_by: reporter.user,
    };
  } else {
    // from an unknown number: no contact; the raw message may hold a NUL and a zero-width space (cht-core#2426)
    const from = `+2547990${rng.range(10000, 99999)}`;
    const raw = ctx.edge('smsNul', 0.3) ? `1!P!12\u0000\u200b#` : `1!P!12#`;
    doc = {
      _id: id,
      _rev: ctx.ids.rev(2),
      type: 'data_record',
      from,
      form: 'P',
      errors: [
        { code: 'sys.facility_not_found', message: 'Facility not found.' },
        { code: 'sys.missing_fields', message: 'Missing or invalid fields: patient_name.' },
      ],
      tasks: smsTasks(ctx, at, from, 'Facility not found.', 'pending'),
      fields: { last_menstrual_period: 12 },
      sms_message: sms(raw, 'P', from),
      reported_date: t,
    };
  }
  return { ref: { id, form: String(doc.form ?? 'sms'), patient, at }, doc };
}
