import { createHash } from 'node:crypto';
import { createCouchClient } from '../couch/couch-client';
import { EngineError } from '../core/engine-error';
import { safeUrl } from '../core/redact';
import type { GeneratedDoc } from './generate-cht-docs';

export interface SeedResult {
  /** Documents written per database. */
  counts: Record<string, number>;
  bytes: number;
  seconds: number;
}

export interface SeedOptions {
  /** Documents per `_bulk_docs` request (also cut at `maxChunkBytes`). */
  chunkSize?: number;
  maxChunkBytes?: number;
  /** Create missing databases first (default true). */
  createDatabases?: boolean;
  onProgress?: (written: number) => void;
}

/**
 * Uploads generated documents to a CouchDB-protocol server as fast as it takes them:
 * `_bulk_docs` with `new_edits: false` (the generated `_rev` is kept, so a seed reproduces the same
 * revisions, deletes arrive as real tombstones and multi-revision docs keep their generation),
 * chunked by count and bytes, one request in flight per database and the databases in parallel.
 */
export async function seedCouch(
  url: string,
  auth: { username: string; password: string } | undefined,
  docs: Iterable<GeneratedDoc>,
  options: SeedOptions = {},
): Promise<SeedResult> {
  const started = process.hrtime.bigint();
  const chunkSize = options.chunkSize ?? 500;
  const maxChunkBytes = options.maxChunkBytes ?? 4 * 1024 * 1024;
  const base = url.replace(/\/+$/, '');
  // The one CouchDB client (app/couch); one socket per database stream.
  const client = createCouchClient({ url: base, ...(auth ?? {}) }, { timeoutMs: 120_000, maxSockets: 8 });

  try {
    const created = new Set<string>();
    const ensureDb = async (db: string): Promise<void> => {
      if (created.has(db) || options.createDatabases === false) return;
      created.add(db);
      const res = await client.send('PUT', `/${encodeURIComponent(db)}`);
      if ((res.status < 200 || res.status >= 300) && res.status !== 412)
        throw new EngineError(
          'COUCH_SERVER',
          `Could not create database ${db} on ${safeUrl(base)}: HTTP ${res.status} ${res.body.slice(0, 300)}`,
        );
    };

    const post = async (db: string, body: string[]): Promise<void> => {
      const res = await client.send(
        'POST',
        `/${encodeURIComponent(db)}/_bulk_docs`,
        Buffer.from(`{"new_edits":false,"docs":[${body.join(',')}]}`),
      );
      if (res.status < 200 || res.status >= 300 || !Array.isArray(res.json))
        throw new EngineError(
          'COUCH_SERVER',
          `_bulk_docs into ${db} on ${safeUrl(base)} failed: HTTP ${res.status} ${res.body.slice(0, 300)}`,
          { retryable: res.status >= 500 },
        );
      const results = res.json as { id?: string; error?: string; reason?: string }[];
      const failed = results.find((r) => r.error);
      if (failed)
        throw new EngineError(
          'DOC_REJECTED',
          `_bulk_docs into ${db} rejected ${failed.id ?? '?'}: ${failed.error ?? ''} ${failed.reason ?? ''}`,
        );
    };

    const buffers = new Map<string, { parts: string[]; bytes: number }>();
    const inFlight = new Map<string, Promise<void>>();
    const counts: Record<string, number> = {};
    let bytes = 0;
    let written = 0;
    let failure: unknown = null;

    const flush = async (db: string): Promise<void> => {
      const buffer = buffers.get(db);
      if (!buffer || buffer.parts.length === 0) return;
      buffers.set(db, { parts: [], bytes: 0 });
      const previous = inFlight.get(db);
      if (previous) await previous;
      if (failure) throw failure;
      await ensureDb(db);
      const n = buffer.parts.length;
      const request = post(db, buffer.parts).then(
        () => {
          written += n;
          options.onProgress?.(written);
        },
        (error: unknown) => {
          failure ??= error;
        },
      );
      inFlight.set(db, request);
    };

    for (const { database, doc } of docs) {
      const json = JSON.stringify(withRevisions(doc));
      let buffer = buffers.get(database);
      if (!buffer) {
        buffer = { parts: [], bytes: 0 };
        buffers.set(database, buffer);
      }
      buffer.parts.push(json);
      buffer.bytes += json.length;
      bytes += Buffer.byteLength(json);
      counts[database] = (counts[database] ?? 0) + 1;
      if (buffer.parts.length >= chunkSize || buffer.bytes >= maxChunkBytes) await flush(database);
      if (failure) throw failure;
    }
    for (const db of [...buffers.keys()]) await flush(db);
    await Promise.all(inFlight.values());
    if (failure) throw failure;
    return { counts, bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } finally {
    client.close();
  }
}

/** A `_revisions` history for `new_edits: false`, so a `3-…` rev is stored as a real third generation. */
function withRevisions(doc: Record<string, unknown>): Record<string, unknown> {
  const rev = typeof doc._rev === 'string' ? doc._rev : null;
  if (!rev) return doc;
  const dash = rev.indexOf('-');
  const generation = Number.parseInt(rev.slice(0, dash), 10);
  if (!(generation > 1)) return doc;
  const ids = [rev.slice(dash + 1)];
  for (let g = generation - 1; g >= 1; g--)
    ids.push(
      createHash('md5')
        .update(`${String(doc._id)}:${g}`)
        .digest('hex'),
    );
  return { ...doc, _revisions: { start: generation, ids } };
}
