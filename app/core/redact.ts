/**
 * Secret redaction, applied at every exit: logs, errors, the UI, diagnostics.
 * Three mechanisms, one function:
 *  - credentials inside URLs (`scheme://user:pass@host`) lose their password;
 *  - `key=value` / `"key": "value"` pairs whose key names a secret lose their value;
 *  - every value registered with `registerSecret` (passwords read from config) is masked
 *    wherever it appears.
 */
const MASK = '***';
const registered = new Set<string>();

export function registerSecret(value: string | undefined | null): void {
  // Very short values would mask ordinary words; a 1–3 character password is masked via URL/key rules only.
  if (value && value.length >= 4) {
    registered.add(value);
    // As it appears inside a URL, too (`p@ss` is `p%40ss` there).
    registered.add(encodeURIComponent(value));
  }
}

/**
 * `scheme://user:password@`: the password runs to the LAST `@` of the address, so one holding
 * `@` or `/` (`admin:Pa@ss@host`, `admin:Pa/ss@host`, which URL parsers split differently) is
 * masked whole. Over-masking a later `@` in a path is the safe side.
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@'"<>]*):([^\s'"<>]*)@/gi;
const SECRET_KEY = '(?:password|passwd|pwd|secret|token|api[_-]?key|authorization|derived_key|salt|cookie)';
const KEY_EQUALS = new RegExp(`\\b(${SECRET_KEY}[A-Za-z_]*\\s*[=:]\\s*)([^\\s&,;"']+)`, 'gi');
const JSON_PAIR = new RegExp(`("${SECRET_KEY}[A-Za-z_]*"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi');
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9+/=._-]{6,}/g;

export function redact(text: string): string {
  let out = text
    .replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${MASK}@`)
    .replace(JSON_PAIR, (_m, key: string) => `${key}"${MASK}"`)
    .replace(BEARER, (_m, kind: string) => `${kind} ${MASK}`)
    .replace(KEY_EQUALS, (_m, key: string, value: string) =>
      value === MASK || /^(Basic|Bearer)$/.test(value) ? `${key}${value}` : `${key}${MASK}`,
    );
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

/** A URL safe to show: no password, no query token. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASK;
    for (const key of [...parsed.searchParams.keys()]) {
      if (new RegExp(`^${SECRET_KEY}`, 'i').test(key)) parsed.searchParams.set(key, MASK);
    }
    return redact(parsed.toString());
  } catch {
    return redact(url);
  }
}
