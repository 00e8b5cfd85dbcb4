import { randomInt, randomUUID } from 'node:crypto';
import { createCouchClient, type CouchClient } from '../couch/couch-client';
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
  const client = createCouchClient(demo, { timeoutMs: 30_000, maxSockets: 2 });
  try {
    return await addActivity(client, n);
  } finally {
    client.close();
  }
}

const ok2xx = (status: number): boolean => status >= 200 && status < 300;

async function addActivity(client: CouchClient, n: number): Promise<DemoActivityResult> {
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

  const existing = await pickExisting(client, toEdit + toDelete);
  const edits = existing.slice(0, toEdit).map((doc): Record<string, unknown> => ({
    ...doc,
    notes: `edited ${new Date(now).toISOString()}`,
    demo_edit_count: Number(doc.demo_edit_count ?? 0) + 1,
  }));
  const deletes = existing.slice(toEdit).map((doc): Record<string, unknown> => ({ ...doc, _deleted: true }));
  const docs = [...fresh, ...edits, ...deletes];
  const res = await client.send('POST', '/medic/_bulk_docs', { docs });
  if (!ok2xx(res.status) || !Array.isArray(res.json))
    throw new EngineError('COUCH_SERVER', `The demo CouchDB server refused new activity (HTTP ${res.status}).`, {
      retryable: true,
    });
  const results = res.json as { id: string; rev?: string; error?: string }[];
  const ok = new Set(results.filter((r) => !r.error).map((r) => r.id));

  const infos = fresh
    .filter((d) => ok.has(String(d._id)))
    .map((d) => ({
      _id: `${String(d._id)}-info`,
      type: 'info',
      doc_id: d._id,
      initial_replication_date: new Date(now).toISOString(),
      latest_replication_date: new Date(now).toISOString(),
    }));
  if (infos.length) {
    await client.send('POST', '/medic-sentinel/_bulk_docs', { docs: infos });
  }
  return {
    created: fresh.filter((d) => ok.has(String(d._id))).length,
    edited: edits.filter((d) => ok.has(String(d._id))).length,
    deleted: deletes.filter((d) => ok.has(String(d._id))).length,
  };
}

/** Random live (not deleted, not design/config) docs of the types CHT users edit. */
async function pickExisting(client: CouchClient, count: number): Promise<Record<string, unknown>[]> {
  if (count <= 0) return [];
  const total = (await client.databaseInfo('medic')).docCount;
  const picked = new Map<string, Record<string, unknown>>();
  for (let attempt = 0; attempt < 4 && picked.size < count; attempt++) {
    const skip = randomInt(Math.max(1, total - count * 4));
    const res = await client.get(`/medic/_all_docs?include_docs=true&limit=${count * 4}&skip=${skip}`);
    if (!ok2xx(res.status)) break;
    const body = res.json as { rows: { id: string; doc?: Record<string, unknown> }[] };
    for (const row of body.rows) {
      if (picked.size >= count) break;
      if (row.doc && LIVE_TYPES.has(String(row.doc.type)) && !picked.has(row.id)) picked.set(row.id, row.doc);
    }
  }
  return [...picked.values()];
}
