/**
 * Turning a feed row into the text PostgreSQL stores in `doc jsonb`.
 *
 * PostgreSQL's jsonb rejects the escape `\u0000` (22P05). JSON.stringify writes a NUL
 * character as that 6-character escape, and a literal backslash as `\\`. So in the
 * serialised text, `\u0000` preceded by an even number of backslashes is a NUL, and
 * `\\u0000` (an escaped backslash, then "u0000") is legitimate text that must stay.
 * The regex consumes escaped backslash pairs first, so it only ever removes real NULs
 * (unlike cht-sync's `/(\\+u0000)|\u0000/g`, which also eats the backslashes).
 */
import type { ChangeRow } from './ports';

/** Password-hash fields CouchDB keeps in `_users` docs (3.4+ adds pbkdf2_prf and iterations). */
export const USER_SECRET_FIELDS = ['password_scheme', 'pbkdf2_prf', 'iterations', 'derived_key', 'salt'] as const;

const NUL_OR_ESCAPED_BACKSLASH = /\\\\|\\u0000/g;

export function stripNulEscapes(json: string): string {
  if (!json.includes('\\u0000')) return json;
  return json.replace(NUL_OR_ESCAPED_BACKSLASH, (m) => (m.length === 2 ? m : ''));
}

const USER_ID_PREFIX = 'org.couchdb.user:';

function isUserDoc(doc: Record<string, unknown>): boolean {
  return typeof doc._id === 'string' && doc._id.startsWith(USER_ID_PREFIX) && doc.type === 'user';
}

/**
 * The doc text to store as it came, when that is exactly what re-serialising the parsed doc
 * would store (the jsonb CHT Sync writes): not a user doc (those lose their password fields),
 * no `_deleted` in the body of a row not marked deleted, and every number known to be stored
 * as JavaScript would write it — jsonb keeps a numeric's text (`12.0` stays `12.0`) where
 * JSON.stringify writes `12`; the feed parser checks the numbers as it cuts the text out
 * (ChangeRow.docNumbersAsWritten). Returns null when the doc must go through the parsed path.
 */
function storableAsReceived(row: ChangeRow, isUsersDb: boolean): string | null {
  const text = row.docText;
  if (text === undefined || row.docNumbersAsWritten !== true || isUsersDb || row.id.startsWith(USER_ID_PREFIX))
    return null;
  if (!row.deleted && text.includes('"_deleted"')) return null;
  return stripNulEscapes(text);
}

/** The row's doc as an object (parsing docText when the feed parser left it as text). */
export function rowDoc(row: ChangeRow): Record<string, unknown> | null {
  if (row.doc || row.docText === undefined) return row.doc;
  const doc: unknown = JSON.parse(row.docText);
  return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : null;
}

export interface PreparedRow {
  id: string;
  deleted: boolean;
  /** Sanitised JSON text of the doc. */
  json: string;
}

/**
 * The doc to store for a change: the body as sent (tombstones included), or a stub
 * `{_id, _rev, _deleted: true}` when a delete came without one. Returns a reason
 * instead when there is nothing storable.
 */
export function prepareRow(row: ChangeRow, isUsersDb: boolean): PreparedRow | { id: string; reason: string } {
  if (row.json !== undefined) return { id: row.id, deleted: row.deleted, json: row.json };
  const asReceived = storableAsReceived(row, isUsersDb);
  if (asReceived !== null) return { id: row.id, deleted: row.deleted, json: asReceived };
  let doc: Record<string, unknown> | null;
  try {
    doc = rowDoc(row);
  } catch (error) {
    return {
      id: row.id,
      reason: `the document is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const deleted = row.deleted || doc?._deleted === true;
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    if (!deleted)
      return { id: row.id, reason: 'the changes feed sent no document body (include_docs) for a live document' };
    doc = row.rev ? { _id: row.id, _rev: row.rev, _deleted: true } : { _id: row.id, _deleted: true };
  }
  if (isUsersDb || isUserDoc(doc)) {
    let copy: Record<string, unknown> | null = null;
    for (const field of USER_SECRET_FIELDS) {
      if (field in doc) {
        copy ??= { ...doc };
        delete copy[field];
      }
    }
    if (copy) doc = copy;
  }
  return { id: row.id, deleted, json: stripNulEscapes(JSON.stringify(doc)) };
}

/** The row with its doc already serialised and sanitised (or unchanged when it cannot be). */
export function compactRow(row: ChangeRow, isUsersDb: boolean): ChangeRow {
  const prepared = prepareRow(row, isUsersDb);
  if ('reason' in prepared) return row;
  return {
    id: row.id,
    seq: row.seq,
    deleted: prepared.deleted,
    doc: null,
    rev: row.rev,
    bytes: row.bytes,
    json: prepared.json,
  };
}
