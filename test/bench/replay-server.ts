import { createWriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import type { GeneratedDoc } from '../../app/generator';

/**
 * A minimal CouchDB-protocol source that is not the bottleneck: it replays, from files on disk, the
 * `_changes` rows CouchDB would serve for a generated data set — opaque string seqs
 * (`<N>-g1AAAA…`), `"seq": null` under `seq_interval`, `pending`, deletes as `deleted: true`
 * rows, attachments as stubs. Only what a sync client needs: `GET /`, `GET /<db>`,
 * `GET /<db>/_changes?since&limit&seq_interval&include_docs` (normal feed).
 *
 * On disk each row is stored as `,<row json>\n` with `"seq":null` first, so a page is one read of
 * consecutive bytes: drop the leading comma, put the page's seq in the first row, done.
 */
export interface ReplayFiles {
  dir: string;
  databases: Map<string, { file: string; offsets: Float64Array; rows: number; deleted: number; bytes: number }>;
}

const SEQ_NULL = '{"seq":null';

/** `also` sees every doc too (the bench writes its COPY file in the same pass); a returned promise is awaited (backpressure). */
export async function writeReplayFiles(
  dir: string,
  docs: Iterable<GeneratedDoc>,
  also?: (item: GeneratedDoc) => Promise<unknown> | undefined,
): Promise<ReplayFiles> {
  const writers = new Map<
    string,
    {
      stream: NodeJS.WritableStream & { bytesWritten?: number };
      offsets: number[];
      pos: number;
      deleted: number;
      file: string;
    }
  >();
  for (const item of docs) {
    const { database, doc } = item;
    const pending = also?.(item);
    if (pending) await pending;
    let w = writers.get(database);
    if (!w) {
      const file = path.join(dir, `${encodeURIComponent(database)}.changes`);
      w = { stream: createWriteStream(file), offsets: [0], pos: 0, deleted: 0, file };
      writers.set(database, w);
    }
    const isDeleted = doc._deleted === true;
    if (isDeleted) w.deleted += 1;
    const row = `,${SEQ_NULL},"id":${JSON.stringify(doc._id)},"changes":[{"rev":${JSON.stringify(doc._rev)}}]${isDeleted ? ',"deleted":true' : ''},"doc":${JSON.stringify(asServed(doc))}}\n`;
    const buf = Buffer.from(row);
    w.pos += buf.length;
    w.offsets.push(w.pos);
    if (!w.stream.write(buf)) await once(w.stream, 'drain');
  }
  const databases: ReplayFiles['databases'] = new Map();
  for (const [db, w] of writers) {
    w.stream.end();
    await once(w.stream, 'finish');
    databases.set(db, {
      file: w.file,
      offsets: Float64Array.from(w.offsets),
      rows: w.offsets.length - 1,
      deleted: w.deleted,
      bytes: w.pos,
    });
  }
  return { dir, databases };
}

/** What CouchDB returns for a stored doc: inline attachments come back as stubs. */
function asServed(doc: Record<string, unknown>): Record<string, unknown> {
  const attachments = doc._attachments as Record<string, { content_type?: string; data?: string }> | undefined;
  if (!attachments) return doc;
  const stubs = Object.fromEntries(
    Object.entries(attachments).map(([name, a]) => [
      name,
      {
        content_type: a.content_type,
        revpos: 1,
        digest: 'md5-AAAAAAAAAAAAAAAAAAAAAA==',
        length: a.data ? Buffer.from(a.data, 'base64').length : 0,
        stub: true,
      },
    ]),
  );
  return { ...doc, _attachments: stubs };
}

export function encodeSeq(database: string, n: number): string {
  // looks like CouchDB's: a visual counter, then an opaque base64url blob (here it carries our position)
  const opaque = Buffer.from(JSON.stringify([database, n, 'replay-shard-range-00000000-ffffffff'])).toString(
    'base64url',
  );
  return `${n}-g1AAAA${opaque}`;
}

function decodeSeq(database: string, seq: string | null, rows: number): number | null {
  if (seq === null || seq === '' || seq === '0') return 0;
  if (seq === 'now') return rows;
  const at = seq.indexOf('-g1AAAA');
  if (at < 0) return null;
  try {
    const [db, n] = JSON.parse(Buffer.from(seq.slice(at + 7), 'base64url').toString('utf8')) as [string, number];
    if (db !== database || !Number.isInteger(n) || n < 0 || n > rows) return null;
    return n;
  } catch {
    return null;
  }
}

export interface ReplayServer {
  url: string;
  requests: number;
  close(): Promise<void>;
}

/** `host`: a loopback address of its own (127.0.0.2 …) stands for another CHT instance (sources are host/db). */
export async function startReplayServer(files: ReplayFiles, o: { host?: string } = {}): Promise<ReplayServer> {
  const handles = new Map<string, FileHandle>();
  for (const [db, f] of files.databases) handles.set(db, await open(f.file, 'r'));
  const state = { requests: 0 };

  const server = http.createServer((req, res) => {
    state.requests += 1;
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal', reason: String(error) }));
    });
  });
  server.keepAliveTimeout = 60_000;

  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://replay');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method !== 'GET')
      return json(res, 405, { error: 'method_not_allowed', reason: 'the replay server is read-only' });
    if (parts.length === 0)
      return json(res, 200, { couchdb: 'Welcome', version: '3.5.2', vendor: { name: 'cht-sync bench replay' } });
    const db = parts[0] ?? '';
    const f = files.databases.get(db);
    const fh = handles.get(db);
    if (!f || !fh) return json(res, 404, { error: 'not_found', reason: 'Database does not exist.' });
    if (parts.length === 1)
      return json(res, 200, {
        db_name: db,
        doc_count: f.rows - f.deleted,
        doc_del_count: f.deleted,
        update_seq: encodeSeq(db, f.rows),
      });
    if (parts[1] !== '_changes' || parts.length !== 2) return json(res, 404, { error: 'not_found', reason: 'missing' });
    const feed = url.searchParams.get('feed') ?? 'normal';
    if (feed !== 'normal')
      return json(res, 400, { error: 'bad_request', reason: 'the replay server serves the normal feed only' });
    const start = decodeSeq(db, url.searchParams.get('since'), f.rows);
    if (start === null)
      return json(res, 400, { error: 'bad_request', reason: "Malformed sequence supplied in 'since' parameter." });
    const limitParam = url.searchParams.get('limit');
    const limit = limitParam === null ? f.rows : Math.max(0, Number.parseInt(limitParam, 10) || 0);
    const interval = Math.max(1, Number.parseInt(url.searchParams.get('seq_interval') ?? '1', 10) || 1);
    const includeDocs = url.searchParams.get('include_docs') === 'true';
    const end = Math.min(f.rows, start + limit);
    const count = end - start;
    const lastSeq = encodeSeq(db, end);
    const footer = Buffer.from(`\n],\n"last_seq":${JSON.stringify(lastSeq)},"pending":${f.rows - end}}\n`);
    if (count === 0) {
      const body = Buffer.concat([Buffer.from('{"results":['), footer]);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
      return;
    }
    const from = f.offsets[start] ?? 0;
    const to = f.offsets[end] ?? 0;
    const buf = Buffer.allocUnsafe(to - from);
    await fh.read(buf, 0, buf.length, from);
    let body: Buffer;
    if (includeDocs && interval === limit) {
      // fast path (what a sync asks for): only the first row carries a seq
      const firstSeq = Buffer.from(`{"results":[\n{"seq":${JSON.stringify(encodeSeq(db, start + 1))}`);
      body = Buffer.concat([firstSeq, buf.subarray(1 + SEQ_NULL.length, buf.length - 1), footer]);
    } else {
      const lines = buf.toString('utf8').split('\n');
      lines.pop();
      const out = lines.map((line, i) => {
        let row = line.slice(1);
        // CouchDB computes a seq when the remaining limit is a multiple of seq_interval
        if ((limit - i) % interval === 0)
          row = `{"seq":${JSON.stringify(encodeSeq(db, start + i + 1))}${row.slice(SEQ_NULL.length)}`;
        if (!includeDocs) {
          const parsed = JSON.parse(row) as Record<string, unknown>;
          delete parsed.doc;
          row = JSON.stringify(parsed);
        }
        return row;
      });
      body = Buffer.from(`{"results":[\n${out.join(',\n')}${footer.toString('utf8')}`);
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  }

  const host = o.host ?? '127.0.0.1';
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    get requests() {
      return state.requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const h of handles.values()) await h.close();
    },
  };
}
