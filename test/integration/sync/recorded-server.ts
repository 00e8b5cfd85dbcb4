/**
 * A tiny CouchDB stand-in that replays the hand-recorded CouchDB 3 responses in
 * test/fixtures/couchdb-recorded, keyed by the request's `since`. Faults on demand:
 * a fixed HTTP status, or cutting the socket half-way through a body.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const DIR = path.resolve('test/fixtures/couchdb-recorded');

export interface RecordedIndex {
  database: string;
  info: Record<string, unknown>;
  requests: { since: string | null; file: string }[];
}

export interface RecordedServer {
  url: string;
  index: RecordedIndex;
  requests: { url: string; headers: http.IncomingHttpHeaders }[];
  /** Answer every request with this status (and a CouchDB error body) while set. */
  failWith: number | null;
  /** Cut the next N _changes bodies half-way. */
  cutNext: number;
  /** Send half of the next N _changes bodies, then nothing (the socket stays open). */
  stallNext: number;
  close(): Promise<void>;
}

export async function startRecordedServer(o: { tls?: { key: string; cert: string } } = {}): Promise<RecordedServer> {
  const index = JSON.parse(readFileSync(path.join(DIR, 'index.json'), 'utf8')) as RecordedIndex;
  const state: RecordedServer = {
    url: '',
    index,
    requests: [],
    failWith: null,
    cutNext: 0,
    stallNext: 0,
    close: async () => undefined,
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    state.requests.push({ url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://x');
    if (state.failWith !== null) {
      const status = state.failWith;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          status === 401
            ? { error: 'unauthorized', reason: 'Name or password is incorrect.' }
            : { error: 'internal_server_error', reason: 'No DB shards could be opened.' },
        ),
      );
      return;
    }
    if (url.pathname === `/${index.database}`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(index.info));
      return;
    }
    if (url.pathname !== `/${index.database}/_changes`) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not_found', reason: 'Database does not exist.' }));
      return;
    }
    const since = url.searchParams.get('since');
    const entry = index.requests.find((r) => r.since === since);
    if (!entry) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'bad_request', reason: `unrecorded since ${since}` }));
      return;
    }
    const body = readFileSync(path.join(DIR, entry.file));
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    if (state.stallNext > 0 && body.length > 100) {
      state.stallNext--;
      res.write(body.subarray(0, Math.floor(body.length / 2)));
      return;
    }
    if (state.cutNext > 0 && body.length > 100) {
      state.cutNext--;
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    // In small pieces, so rows straddle chunk boundaries as they do on a real network.
    let offset = 0;
    const step = 97;
    const writeMore = (): void => {
      while (offset < body.length) {
        const piece = body.subarray(offset, offset + step);
        offset += step;
        if (!res.write(piece)) {
          res.once('drain', writeMore);
          return;
        }
      }
      res.end();
    };
    writeMore();
  };
  const server = o.tls ? https.createServer(o.tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `${o.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
