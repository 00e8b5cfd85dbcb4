import type { Rng } from './prng';

/** Name pools per script: CHT deployments use Latin, Devanagari, Arabic and Ethiopic scripts (cht-data-model.md §5.4). */
export type Script = 'latin' | 'devanagari' | 'arabic' | 'ethiopic';

const FIRST: Record<Script, readonly string[]> = {
  latin: [
    'Grace',
    'Mercy',
    'Joyce',
    'Esther',
    'Amani',
    'Peter',
    'Naomi',
    'Wairimu',
    'Akinyi',
    'Otieno',
    'Achieng',
    'Kamau',
    'Fatuma',
    'Halima',
    'Juma',
    'Baraka',
    'Nia',
    'Zawadi',
    'Aïssata',
    'Mariam',
    'Ɲɛlɛ',
    'Oumar',
  ],
  devanagari: ['सीता', 'गीता', 'राम', 'हरि', 'कमला', 'सरिता', 'बिमला', 'सुनिता', 'राधा', 'कृष्ण'],
  arabic: ['فاطمة', 'عائشة', 'محمد', 'أحمد', 'مريم', 'زينب', 'علي', 'خديجة', 'يوسف', 'ليلى'],
  ethiopic: ['አበበ', 'ትዕግስት', 'መሰረት', 'ሰላም', 'ዮሐንስ', 'ብርሃኔ', 'አልማዝ', 'ፀሐይ'],
};

const LAST: Record<Script, readonly string[]> = {
  latin: [
    'Wanjiku',
    'Achieng',
    'Otieno',
    'Kariuki',
    'Njoroge',
    'Chebet',
    'Mwangi',
    'Odhiambo',
    'Kiprono',
    'Nakato',
    'Traoré',
    'Diallo',
    'Koné',
  ],
  devanagari: ['थापा', 'श्रेष्ठ', 'गुरुङ', 'तामाङ', 'राई', 'शर्मा', 'अधिकारी'],
  arabic: ['الزهراء', 'حسن', 'عبد الله', 'إبراهيم', 'الأمين', 'عمر'],
  ethiopic: ['ቢቂላ', 'ገብረ', 'ተስፋዬ', 'ወልዴ', 'ሀይሌ'],
};

const EMOJI = ['🌸', '👩🏾‍⚕️', '👶🏾', '🤒', '💊', '👨‍👩‍👧', '🏥', '✅'];

export function pickScript(rng: Rng): Script {
  const r = rng.next();
  if (r < 0.76) return 'latin';
  if (r < 0.88) return 'devanagari';
  if (r < 0.96) return 'arabic';
  return 'ethiopic';
}

export function personName(rng: Rng, script: Script): string {
  return `${rng.pick(FIRST[script])} ${rng.pick(LAST[script])}`;
}

export function familyName(rng: Rng, script: Script): string {
  const last = rng.pick(LAST[script]);
  switch (script) {
    case 'devanagari':
      return `${last} परिवार`;
    case 'arabic':
      return `عائلة ${last}`;
    case 'ethiopic':
      return `የ${last} ቤተሰብ`;
    default:
      return `${last} Family`;
  }
}

export function emoji(rng: Rng): string {
  return rng.pick(EMOJI);
}

const NOTES = [
  'Prefers visits after 2pm',
  'Lives near the borehole',
  'Referred to Ruiru Level 4',
  'Mother-in-law is the main caregiver',
  'Phone shared with neighbour',
  'Moved from Thika in March',
];

export function note(rng: Rng): string {
  return rng.pick(NOTES);
}

const SMS_FREE_TEXT = [
  'Mtoto ana homa tangu jana tafadhali nisaidie',
  'Need more RDTs at the facility',
  'Asante sana',
  'Mama amejifungua salama',
  'Stock out of ORS',
];

export function smsText(rng: Rng): string {
  return rng.pick(SMS_FREE_TEXT);
}

/** A string of at least `bytes` UTF-8 bytes, built from repeated log-like lines (for ≥ 1 MB documents). */
export function bulkText(rng: Rng, bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const line = `${new Date(1_760_000_000_000 + rng.int(1e10)).toISOString()} DEBUG replication batch ${rng.int(100000)} docs_read=${rng.int(500)} ${rng.hex(24)}\n`;
    parts.push(line);
    size += line.length;
  }
  return parts.join('');
}

export function phone(rng: Rng, script: Script): string {
  switch (script) {
    case 'devanagari':
      return `+97798${rng.range(10000000, 99999999)}`;
    case 'arabic':
      return `+2499${rng.range(10000000, 99999999)}`;
    case 'ethiopic':
      return `+2519${rng.range(10000000, 99999999)}`;
    default:
      return `+2547${rng.range(10000000, 99999999)}`;
  }
}
