import { randomInt, randomUUID } from 'node:crypto';
import { EngineError } from '../core/engine-error';
import { generateChtDocs } from '../generator';

export interface DemoActivityTarget {
  url: string;
  username: string;
  password: string;
}

export interface DemoActivityResult {
  created: number;
  edited: number;
  deleted: number;
}

const LIVE_TYPES = new Set(['data_record', 'person', 'task']);

/**
 * Writes `n` changes to the demo's `medic` database (and their sentinel info docs) so a newcomer
 * sees the dashboard move: about 70 % new reports/persons/tasks, 20 % edits of existing docs and
 * 10 % deletes (saved whole with `_deleted: true`, as the CHT webapp does). Ordinary edits, not
 * `new_edits: false`, so CouchDB assigns the revisions exactly as for live CHT traffic.
 */
export async function addDemoActivity(demo: DemoActivityTarget, n: number): Promise<DemoActivityResult> {
  if (n <= 0) return { created: 0, edited: 0, deleted: 0 };
  const headers = { authorization: `Basic ${Buffer.from(`${demo.username}:${demo.password}`).toString('base64')}`, 'content-type': 'application/json' };
  const base = demo.url.replace(/\/+$/, '');
  const toDelete = Math.floor(n * 0.1);
  const toEdit = Math.floor(n * 0.2);
  const toCreate = n - toDelete - toEdit;

  const now = Date.now();
  const fresh: Record<string, unknown>[] = [];
  // a fresh seed each call; the config docs at the head of every stream are skipped
  for (const { database, doc } of generateChtDocs({ seed: randomInt(2 ** 31 - 1), docs: 80 + toCreate * 4 })) {
    if (fresh.length >= toCreate) break;
    if (database !== 'medic' || doc._deleted || !LIVE_TYPES.has(String(doc.type))) continue;
    const { _rev: _unused, _attachments: _alsoUnused, ...body } = doc;
    fresh.push({ ...body, _id: randomUUID(), reported_date: now });
  }

  const existing = await pickExisting(base, headers, toEdit + toDelete);
  const edits = existing.slice(0, toEdit).map((doc): Record<string, unknown> => ({ ...doc, notes: `edited ${new Date(now).toISOString()}`, demo_edit_count: Number(doc.demo_edit_count ?? 0) + 1 }));
  const deletes = existing.slice(toEdit).map((doc): Record<string, unknown> => ({ ...doc, _deleted: true }));
  const docs = [...fresh, ...edits, ...deletes];
  const res = await fetch(`${base}/medic/_bulk_docs`, { method: 'POST', headers, body: JSON.stringify({ docs }) });
  if (!res.ok) throw new EngineError('COUCH_SERVER', `The demo CouchDB server refused new activity (HTTP ${res.status}).`, { retryable: true });
  const results = (await res.json()) as { id: string; rev?: string; error?: string }[];
  const ok = new Set(results.filter((r) => !r.error).map((r) => r.id));

  const infos = fresh
    .filter((d) => ok.has(String(d._id)))
    .map((d) => ({ _id: `${String(d._id)}-info`, type: 'info', doc_id: d._id, initial_replication_date: new Date(now).toISOString(), latest_replication_date: new Date(now).toISOString() }));
  if (infos.length) {
    const sentinel = await fetch(`${base}/medic-sentinel/_bulk_docs`, { method: 'POST', headers, body: JSON.stringify({ docs: infos }) });
    await sentinel.body?.cancel().catch(() => undefined);
  }
  return {
    created: fresh.filter((d) => ok.has(String(d._id))).length,
    edited: edits.filter((d) => ok.has(String(d._id))).length,
    deleted: deletes.filter((d) => ok.has(String(d._id))).length,
  };
}

/** Random live (not deleted, not design/config) docs of the types CHT users edit. */
async function pickExisting(base: string, headers: Record<string, string>, count: number): Promise<Record<string, unknown>[]> {
  if (count <= 0) return [];
  const info = await fetch(`${base}/medic`, { headers });
  if (!info.ok) throw new EngineError('COUCH_SERVER', `The demo CouchDB server did not describe the medic database (HTTP ${info.status}).`, { retryable: true });
  const { doc_count: total } = (await info.json()) as { doc_count: number };
  const picked = new Map<string, Record<string, unknown>>();
  for (let attempt = 0; attempt < 4 && picked.size < count; attempt++) {
    const skip = randomInt(Math.max(1, total - count * 4));
    const res = await fetch(`${base}/medic/_all_docs?include_docs=true&limit=${count * 4}&skip=${skip}`, { headers });
    if (!res.ok) break;
    const body = (await res.json()) as { rows: { id: string; doc?: Record<string, unknown> }[] };
    for (const row of body.rows) {
      if (picked.size >= count) break;
      if (row.doc && LIVE_TYPES.has(String(row.doc.type)) && !picked.has(row.id)) picked.set(row.id, row.doc);
    }
  }
  return [...picked.values()];
}
