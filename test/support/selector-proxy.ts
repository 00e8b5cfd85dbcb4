/**
 * A TEST proxy in front of pouchdb-server that speaks CouchDB 3's `_selector` filter:
 * `POST /db/_changes?filter=_selector` with `{"selector": …}` is forwarded as pouchdb-server's own
 * form, `GET /db/_changes?selector=<json>` (pouchdb-server crashes on `filter=_selector` and ignores a
 * POSTed selector: machine-notes.md). Everything else passes through untouched. The product sends
 * CouchDB's form only; this is what lets a real pouchdb-server answer it in tests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SelectorProxy {
  /** Base URL of the proxy (no credentials). */
  url: string;
  /** How many `_changes` requests carried a selector (so a test can prove the filter was asked for). */
  selectorRequests: number;
  /** The last selector seen per database. */
  lastSelector: Map<string, unknown>;
  stop(): Promise<void>;
}

export async function startSelectorProxy(upstreamUrl: string): Promise<SelectorProxy> {
  const upstream = new URL(upstreamUrl);
  const state = { selectorRequests: 0, lastSelector: new Map<string, unknown>() };

  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    method: string,
    path: string,
    body: Buffer | null,
  ): void => {
    const headers = { ...req.headers, host: upstream.host };
    if (body !== null && method === 'GET') {
      delete headers['content-length'];
      delete headers['content-type'];
    }
    const out = http.request({ hostname: upstream.hostname, port: upstream.port, method, path, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    if (body !== null && method !== 'GET') out.end(body);
    else if (body === null) req.pipe(out);
    else out.end();
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const isSelectorFeed =
      req.method === 'POST' &&
      /^\/[^/]+\/_changes$/.test(url.pathname) &&
      url.searchParams.get('filter') === '_selector';
    if (!isSelectorFeed) {
      forward(req, res, req.method ?? 'GET', req.url ?? '/', null);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let selector: unknown;
      try {
        selector = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { selector?: unknown }).selector;
      } catch {
        selector = undefined;
      }
      if (selector === undefined || selector === null || typeof selector !== 'object') {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'bad_request', reason: 'Selector must be specified in POST payload' }));
        return;
      }
      state.selectorRequests += 1;
      state.lastSelector.set(decodeURIComponent(url.pathname.split('/')[1] ?? ''), selector);
      url.searchParams.delete('filter');
      url.searchParams.set('selector', JSON.stringify(selector));
      forward(req, res, 'GET', `${url.pathname}?${url.searchParams.toString()}`, Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get selectorRequests() {
      return state.selectorRequests;
    },
    lastSelector: state.lastSelector,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
