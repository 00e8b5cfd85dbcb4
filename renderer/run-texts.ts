import type { ModelRunResult } from '../app/contract/dto';
import type { WireError } from '../app/contract/errors';
import type { Translate } from './i18n/use-t';

/**
 * The words around a run's details in the run history (model and test outcomes, rebuild reasons,
 * warnings, skipped documents), in the UI's language.
 *
 * The engine (app/transform) records these as English sentences. Our own sentences are matched
 * here and said again from the catalogue; what PostgreSQL wrote is kept as it wrote it (it is
 * evidence: the words to search for, the ones a DBA expects), and so are names from the project
 * (models, columns, files, values). A sentence of the engine this file does not know is kept as
 * English technical detail under a catalogue line, never shown as if it were the UI's words.
 * test/unit/renderer/run-texts.test.ts feeds it the engine's own sentences, so a change of
 * wording there fails a test instead of leaking English here.
 */
export interface ModelErrorView {
  /** Our sentence, from the catalogue. */
  line: string;
  /** PostgreSQL's own message (with its detail in brackets), as PostgreSQL wrote it. */
  postgres: string | null;
  /** PostgreSQL's hint, as it wrote it. */
  hint: string | null;
  /** The engine's English message when no part of it is PostgreSQL's (shown folded, labelled as English). */
  detail: string | null;
}

const FAILED_IN_PG = /^(Model|Test|Snapshot) .+? \(.+?\) failed in PostgreSQL: ([\s\S]*)$/;
const RENDER_QUERY = /^A query run while rendering .+? failed: ([\s\S]*)$/;
const HOOK = /^The .+? hook failed: ([\s\S]*)$/;
const UNREACHABLE = /^PostgreSQL could not be reached to run the models: ([\s\S]*)$/;

function splitHint(text: string): { postgres: string; hint: string | null } {
  const at = text.lastIndexOf(' Hint: ');
  return at < 0 ? { postgres: text, hint: null } : { postgres: text.slice(0, at), hint: text.slice(at + 7) };
}

/** A model's (or test's, hook's) error: our words from the catalogue, PostgreSQL's as written. */
export function describeModelError(error: WireError, t: Translate): ModelErrorView {
  const message = error.message;
  let m = FAILED_IN_PG.exec(message);
  if (m) {
    const kind = m[1] === 'Test' ? 'test' : m[1] === 'Snapshot' ? 'snapshot' : 'model';
    return { line: t(`modelError.pg.${kind}`), ...splitHint(m[2]!), detail: null };
  }
  m = RENDER_QUERY.exec(message);
  if (m) return { line: t('modelError.renderQuery'), ...splitHint(m[1]!), detail: null };
  m = UNREACHABLE.exec(message);
  if (m) return { line: t('modelError.unreachable'), postgres: m[1]!, hint: null, detail: null };
  m = HOOK.exec(message);
  // A hook is SQL: what follows is the statement's error as PostgreSQL (or the driver) wrote it.
  if (m) return { line: t('modelError.hook'), ...splitHint(m[1]!), detail: null };
  const key =
    error.code === 'TEMPLATE_SYNTAX' ||
    error.code === 'TEMPLATE_RUNTIME' ||
    error.code === 'MODEL_COMPILE' ||
    error.code === 'PG_UNREACHABLE'
      ? (`modelError.${error.code}` as const)
      : 'modelError.other';
  return { line: t(key), postgres: null, hint: null, detail: message };
}

/** A model's error as one line (outcome notices): ours, then PostgreSQL's words when there are some. */
export function modelErrorLine(error: WireError, t: Translate): string {
  const v = describeModelError(error, t);
  return v.postgres ? `${v.line} ${v.postgres}` : v.line;
}

/** What a test checks, in the UI's language; names and values from the project stay as they are. */
export function testDescription(description: string, t: Translate): string {
  let m = /^unit test of (.*): its SQL gives the expected rows for the given inputs$/.exec(description);
  if (m) return t('test.unit', { model: subject(m[1]!, t) });
  m = /^(.+) returns no rows$/.exec(description);
  if (m) return t('test.singular', { file: m[1]! });
  m = /^(.+) is never empty$/.exec(description);
  if (m) return t('test.not_null', { column: subject(m[1]!, t) });
  m = /^(.+) has no duplicates$/.exec(description);
  if (m) return t('test.unique', { column: subject(m[1]!, t) });
  m = /^(.+?) is one of (.*)$/.exec(description);
  if (m) return t('test.accepted_values', { column: subject(m[1]!, t), values: m[2]! });
  m = /^every (.+?) exists in (.+)$/.exec(description);
  if (m) return t('test.relationships', { column: subject(m[1]!, t), target: m[2]! });
  m = /^(\S+) on (.+)$/.exec(description);
  if (m) return t('test.generic', { test: m[1]!, column: subject(m[2]!, t) });
  return t('test.other', { test: description });
}

/** `source cht.medic.doc` → the word "source" in the UI's language; a model or column name as it is. */
function subject(text: string, t: Translate): string {
  const m = /^source (.+)$/.exec(text);
  return m ? t('test.source', { name: m[1]! }) : text;
}

/** A failed or warning test's rule ("configured to fail if != 0"), in the UI's language. */
export function testRule(m: Pick<ModelRunResult, 'message' | 'status'>, t: Translate): string | null {
  if (!m.message) return null;
  const rule = /^Got \d+ results?, configured to (fail|warn) if (.+)$/.exec(m.message);
  if (!rule) return m.message;
  return t(rule[1] === 'fail' ? 'test.rule.fail' : 'test.rule.warn', { condition: rule[2]! });
}

/** Why a model was rebuilt from scratch, in the UI's language (a clause: "its SQL … changed …"). */
export function refreshReasonText(reason: string, t: Translate): string {
  const parent = /^its parent (.+) changed since the last build$/.exec(reason);
  if (parent) return t('refresh.parent', { model: parent[1]! });
  if (reason === 'its SQL or configuration changed since its last build') return t('refresh.changed');
  return reason;
}

/**
 * A transform run's warning: the engine's own sentences in the UI's language; anything else (a
 * project's own `exceptions.warn`, a package's message) as it was written, flagged by `asWritten`.
 */
export function transformWarningText(w: string, t: Translate): { text: string; asWritten: boolean } {
  if (w.startsWith('Coalesced: the models already hold every row landed so far'))
    return { text: t('warning.coalesced'), asWritten: false };
  let m = /^Model (\S+) will be fully refreshed: (.+)\.$/.exec(w);
  if (m)
    return { text: t('warning.refreshed', { model: m[1]!, reason: refreshReasonText(m[2]!, t) }), asWritten: false };
  m = /^Model (\S+) changed since its last build but has full_refresh: false, so it is not rebuilt;/.exec(w);
  if (m) return { text: t('warning.noFullRefresh', { model: m[1]! }), asWritten: false };
  return { text: w, asWritten: true };
}

/** Why a document was skipped by a sync: our words; the JSON parser's own message kept as evidence. */
export function skipReasonText(reason: string, t: Translate): string {
  const json = /^the document is not valid JSON: ([\s\S]*)$/.exec(reason);
  if (json) return t('skip.invalidJson', { error: json[1]! });
  if (reason === 'the changes feed sent no document body (include_docs) for a live document') return t('skip.noBody');
  return reason;
}
