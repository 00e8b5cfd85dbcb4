/**
 * Number, size, duration and date formatting in the UI's language. Everything the
 * user reads goes through here so French gets "1 234,5" and English "1,234.5".
 */
export type Lang = 'en' | 'fr';

const localeOf = (lang: Lang): string => (lang === 'fr' ? 'fr-FR' : 'en-GB');

export function formatNumber(lang: Lang, n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return new Intl.NumberFormat(localeOf(lang), { maximumFractionDigits: digits }).format(n);
}

export function formatBytes(lang: Lang, bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  const units = lang === 'fr' ? ['o', 'Ko', 'Mo', 'Go', 'To'] : ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${formatNumber(lang, value, value < 10 && unit > 0 ? 1 : 0)} ${units[unit]}`;
}

/** "2 h 5 min", "45 s": short, unambiguous, no locale-specific plural rules needed. */
export function formatDuration(lang: Lang, seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  // Sub-10-second runs (models, small syncs) keep a decimal: "0 s" would read as "did nothing".
  if (seconds < 10) return `${formatNumber(lang, Math.max(0, seconds), 1)} s`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${s % 60 ? `${s % 60} s` : ''}`.trim();
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60 ? `${minutes % 60} min` : ''}`.trim();
  const days = Math.floor(hours / 24);
  return lang === 'fr' ? `${days} j ${hours % 24} h` : `${days} d ${hours % 24} h`;
}

export function formatDateTime(lang: Lang, iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(localeOf(lang), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function formatDate(lang: Lang, iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(localeOf(lang), { dateStyle: 'medium' }).format(d);
}

/** "5 minutes ago": the words people use for freshness. */
export function formatAgo(lang: Lang, iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const diff = Math.round((t - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(localeOf(lang), { numeric: 'auto' });
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(diff, 'second');
  if (abs < 3600) return rtf.format(Math.round(diff / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), 'hour');
  return rtf.format(Math.round(diff / 86400), 'day');
}

export function runSeconds(startedAt: string, finishedAt: string | null): number | null {
  if (!finishedAt) return null;
  const s = (new Date(finishedAt).getTime() - new Date(startedAt).getTime()) / 1000;
  return Number.isFinite(s) ? s : null;
}

/**
 * An address as it may be shown: whatever was typed before `@` (a username, a password) removed.
 * The password lives in its own field and is never displayed; the user typed into the address
 * is shown as "as <user>" by the caller.
 */
export function displayUrl(raw: string): { url: string; user: string | null } {
  const trimmed = raw.trim();
  // To the LAST @: a password holding / or @ is removed whole.
  const match = /^([a-z][a-z0-9+.-]*:\/\/)(.*@)([^@]*)$/i.exec(trimmed);
  if (!match) return { url: trimmed, user: null };
  const userinfo = match[2]!.slice(0, -1);
  const user = userinfo.split(':')[0] ?? '';
  let decoded = user;
  try {
    decoded = decodeURIComponent(user);
  } catch {
    decoded = user;
  }
  return { url: `${match[1]}${match[3]}`, user: decoded || null };
}

/** The date format typed in the UI's language, said explicitly next to a date filter. */
export function dateInputFormat(lang: Lang): string {
  return lang === 'fr' ? 'JJ/MM/AAAA' : 'DD/MM/YYYY';
}

/**
 * A date typed by the user, read by the UI's locale with one explicit format (day first, as
 * en-GB and fr-FR write it: "01/07/2026" is 1 July 2026), or as ISO (2026-07-01, with a time
 * if given). Returns the ISO text the engine accepts, or null when it is not a real date —
 * never a silent month/day swap.
 */
export function parseDateInput(text: string): string | null {
  const value = text.trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(
    value,
  );
  if (iso) return isRealDate(Number(iso[1]), Number(iso[2]), Number(iso[3])) ? value.replace(' ', 'T') : null;
  const dayFirst = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  if (!dayFirst) return null;
  const [day, month, year] = [Number(dayFirst[1]), Number(dayFirst[2]), Number(dayFirst[3])];
  if (!isRealDate(year, month, day)) return null;
  const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  if (dayFirst[4] === undefined) return date;
  const [h, m, s] = [Number(dayFirst[4]), Number(dayFirst[5]), Number(dayFirst[6] ?? 0)];
  if (h > 23 || m > 59 || s > 59) return null;
  return `${date}T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

function isRealDate(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** Column types the data filter treats as dates. */
export function isDateType(type: string): boolean {
  return /^(date|timestamp)/i.test(type);
}
