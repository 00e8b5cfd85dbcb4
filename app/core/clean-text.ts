/**
 * The one sanitiser for text that came from outside (a CouchDB or PostgreSQL server's error,
 * a document id, git's output) before it reaches a terminal or the UI. A server must not be
 * able to retitle the terminal (`ESC]0;…`), clear it (`ESC[2J`), plant a link whose text lies
 * about its target (OSC 8), move the cursor over earlier lines (`\r`, CSI), or reorder what is
 * shown (Unicode bidirectional overrides).
 *
 * Removed: every escape sequence (CSI, OSC with its payload, DCS/SOS/PM/APC strings, two-byte
 * ESC sequences; their 8-bit C1 forms too), every other C0 and C1 control character and DEL,
 * and the bidi embedding/override/isolate characters. Kept: printable text of every script;
 * tab and newline only with `multiline` (otherwise each becomes a space).
 *
 * Applied at the exits rather than where text enters, so nothing can slip past: EngineError
 * and toWireError (every error the UI or a script sees) and the CLI's writes (every line on the
 * terminal). `cleanText` is idempotent and cheap on clean text (one test, no copy).
 */
// ESC followed by: CSI params/final | OSC … (BEL | ST) | DCS/SOS/PM/APC … ST | any other single byte.
const ESCAPE_SEQUENCE =
  // eslint-disable-next-line no-control-regex
  /\u001b(?:\[[0-?]*[ -/]*[@-~]?|\][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|[PX^_][^\u001b\u009c]*(?:\u001b\\|\u009c)?|[\s\S])?|\u009b[0-?]*[ -/]*[@-~]?|[\u009d\u0090\u0098\u009e\u009f][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?/g;
// eslint-disable-next-line no-control-regex
const CONTROL_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const ANY_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

export function cleanText(text: string, options: { multiline?: boolean } = {}): string {
  const multiline = options.multiline ?? true;
  if (multiline && !ANY_UNSAFE.test(text)) return text;
  const withoutSequences = text.replace(ESCAPE_SEQUENCE, '');
  if (multiline) return withoutSequences.replace(CONTROL_KEEP_LINES, '');
  return withoutSequences.replace(/[\t\n]/g, ' ').replace(CONTROL_ONE_LINE, '');
}

/** Every string inside a JSON-like value cleaned (error details, for instance). */
export function cleanDeep<T>(value: T): T {
  if (typeof value === 'string') return cleanText(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => cleanDeep(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = cleanDeep(v);
    return out as T;
  }
  return value;
}
