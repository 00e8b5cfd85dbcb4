import { configScript } from './activity';
import { HISTORY_START, type Doc, type GenContext } from './context';

/** The configuration documents at the head of a CHT `medic` feed: design docs, settings, forms, translations. */
export function buildConfigDocs(ctx: GenContext): Doc[] {
  const rev = (n: number): string => ctx.ids.rev(n);
  const contactTypes = [
    {
      id: 'district_hospital',
      name_key: 'contact.type.district_hospital',
      icon: 'medic-district-hospital',
      create_form: 'form:contact:district_hospital:create',
    },
    {
      id: 'health_center',
      name_key: 'contact.type.health_center',
      parents: ['district_hospital'],
      icon: 'medic-health-center',
      create_form: 'form:contact:health_center:create',
    },
    {
      id: 'chw_area',
      name_key: 'contact.type.chw_area',
      parents: ['district_hospital'],
      icon: 'medic-health-center',
      create_form: 'form:contact:chw_area:create',
    },
    {
      id: 'clinic',
      name_key: 'contact.type.clinic',
      parents: ['health_center'],
      icon: 'medic-clinic',
      create_form: 'form:contact:clinic:create',
      count_visits: true,
    },
    {
      id: 'household',
      name_key: 'contact.type.household',
      parents: ['health_center', 'chw_area'],
      icon: 'medic-clinic',
      create_form: 'form:contact:household:create',
    },
    {
      id: 'household_member',
      name_key: 'contact.type.household_member',
      parents: ['household', 'clinic'],
      icon: 'medic-person',
      create_form: 'form:contact:household_member:create',
      person: true,
    },
    {
      id: 'person',
      name_key: 'contact.type.person',
      parents: ['district_hospital', 'health_center', 'clinic'],
      icon: 'medic-person',
      create_form: 'form:contact:person:create',
      person: true,
    },
  ];
  const form = (internalId: string, title: string, person: boolean): Doc => ({
    _id: `form:${internalId}`,
    _rev: rev(ctx.rng.range(2, 9)),
    type: 'form',
    internalId,
    title,
    icon: `icon-${internalId}`,
    context: { person, place: !person, expression: person ? "contact.type === 'person'" : '' },
    xmlVersion: { time: HISTORY_START, sha256: ctx.rng.hex(64) },
  });
  return [
    {
      _id: '_design/medic-conflicts',
      _rev: rev(4),
      views: { conflicts: { map: 'function(doc) {\n  if (doc._conflicts) {\n    emit(doc._conflicts);\n  }\n}' } },
    },
    {
      _id: '_design/medic-client',
      _rev: rev(12),
      views: { contacts_by_type: { map: "function(doc) { if (doc.type === 'person') { emit(doc.type); } }" } },
      validate_doc_update: 'function(newDoc, oldDoc, userCtx) { /* permissive in synthetic data */ }',
    },
    {
      _id: 'settings',
      _rev: rev(37),
      settings: {
        locale: 'en',
        locale_outgoing: 'en',
        date_format: 'DD-MMM-YYYY',
        contact_types: contactTypes,
        transitions: {
          generate_patient_id_on_people: true,
          death_reporting: true,
          registration: true,
          default_responses: true,
          update_clinics: true,
          muting: true,
        },
        forms: {
          P: {
            meta: {
              code: 'P',
              icon: 'icon-pregnancy',
              label: { en: 'Pregnancy registration', sw: 'Usajili wa ujauzito' },
            },
            fields: {
              last_menstrual_period: { type: 'integer', required: true },
              patient_name: { type: 'string', required: true },
            },
            public_form: false,
            use_sentinel: true,
          },
        },
        // real settings docs embed compiled tasks (~20 KB) and contact summary (~77 KB)
        tasks: { rules: configScript(ctx, 20_000), targets: { enabled: true, items: [] } },
        contact_summary: configScript(ctx, 77_000),
      },
    },
    form('pregnancy', 'Pregnancy registration', true),
    form('pregnancy_home_visit', 'Pregnancy home visit', true),
    form('delivery', 'Delivery', true),
    form('assessment', 'Assessment', true),
    form('immunization_visit', 'Immunization visit', true),
    form('death_report', 'Death report', true),
    {
      _id: 'messages-en',
      _rev: rev(15),
      type: 'translations',
      code: 'en',
      name: 'English',
      generic: { Reports: 'Reports', 'contact.type.person': 'Person' },
      custom: {},
    },
    {
      _id: 'messages-ne',
      _rev: rev(12),
      type: 'translations',
      code: 'ne',
      name: 'नेपाली (Nepali)',
      generic: { Reports: 'रिपोर्टहरू', 'contact.type.person': 'व्यक्ति' },
      custom: { 'contact.type.village': 'गाउँ' },
    },
    {
      _id: 'messages-ar',
      _rev: rev(9),
      type: 'translations',
      code: 'ar',
      name: 'العربية',
      generic: { Reports: 'التقارير', 'contact.type.person': 'شخص' },
      custom: {},
    },
    {
      _id: 'messages-am',
      _rev: rev(3),
      type: 'translations',
      code: 'am',
      name: 'አማርኛ',
      generic: { Reports: 'ሪፖርቶች', 'contact.type.person': 'ሰው' },
      custom: {},
    },
    { _id: 'shortcode-id-length', _rev: rev(1), current_length: 5 },
  ];
}
