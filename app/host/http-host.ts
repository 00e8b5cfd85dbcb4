import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { EVENT_NAMES, methodSchemas, type WireError } from '../contract';
import { toWireError } from '../core/engine-error';
import type { Logger } from '../core/logger';
import { CONTENT_SECURITY_POLICY } from '../engine/csp';
import { exportFileName } from '../engine/data/tables';
import { invokeHandler } from '../engine/invoke-handler';
import type { Engine } from '../engine/types';

export interface HttpHostOptions {
  port?: number;
  host?: string;
  staticDir: string;
  logger: Logger;
  /** Server-sent-events heartbeat; proxies and browsers drop idle streams. */
  heartbeatMs?: number;
  /**
   * Called when the printed link has been used: it is single-use, so the host makes the next
   * one (the CLI prints it, so the terminal always shows a link that works).
   */
  onLinkUsed?: (nextLink: string) => void;
}

export interface HttpHost {
  /** Base URL, no token. */
  url: string;
  /** For scripts: `Authorization: Bearer <token>`. Never put in a URL. */
  token: string;
  /** The page's own address after sign-in (`<url>/s/<instance>/`): the session cookie is scoped to it. */
  appUrl: string;
  /**
   * What the CLI prints: a single-use link. Its first load sets this instance's session cookie
   * and redirects to `appUrl`, so the address bar and history keep a link that no longer works.
   * Read it again for a fresh link.
   */
  readonly urlWithToken: string;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
/** A body larger than MAX_BODY is read and dropped up to this size (so the client sees the 413), then the connection is cut. */
const MAX_DISCARD = 64 * 1024 * 1024;
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The headless host behind `cht-sync serve`: the renderer bundle, the typed API
 * (`POST /api/invoke/:method`) and engine events (`GET /api/events`, SSE) on
 * loopback. Every request needs the per-start token (Bearer header) or this
 * instance's session cookie; requests from another origin or for another Host
 * name (DNS rebinding) are refused. Prints nothing.
 *
 * The session is per instance: the cookie's name and Path (`/s/<instance>/`) are
 * unique to this start, so a browser never sends it to another service on
 * 127.0.0.1 (cookies ignore ports; paths they do not) and two instances never
 * overwrite each other's cookie. The browser gets it from a single-use link
 * (`/?token=<link code>`), redirected at once to the clean `/s/<instance>/`.
 */
export async function startHttpHost(
  engine: Pick<Engine, 'handlers' | 'events'> & Partial<Pick<Engine, 'exportCsv'>>,
  options: HttpHostOptions,
): Promise<HttpHost> {
  const bindHost = options.host ?? '127.0.0.1';
  const token = randomBytes(24).toString('base64url');
  const instance = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
  const session = randomBytes(24).toString('base64url');
  const cookieName = `cht_sync_${instance}`;
  const appPath = `/s/${instance}/`;
  let linkCode = randomBytes(24).toString('base64url');
  const logger = options.logger;
  const staticRoot = path.resolve(options.staticDir);
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const streams = new Set<http.ServerResponse>();
  let isAllowedHost: (hostHeader: string) => boolean = () => false;
  let baseUrl = '';

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error('http host request failed', { error, path: req.url?.split('?')[0] });
      if (!res.headersSent)
        sendJson(res, 500, {
          ok: false,
          error: { code: 'INTERNAL', message: 'The local server failed to answer this request.', retryable: true },
        });
      else res.destroy();
    });
  });
  // Electron and curl keep connections alive; a long sync.runNow must not be cut.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    setCommonHeaders(res);
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (!isAllowedHost(hostHeader))
      return sendError(
        res,
        403,
        'INVALID_ARGUMENT',
        'This server only answers requests addressed to its own loopback address.',
      );
    const origin = req.headers.origin;
    // The page's own origin is http://<the Host it was loaded from>; compared whole, never by substring.
    if (origin !== undefined && origin.toLowerCase() !== `http://${hostHeader}`) {
      return sendError(res, 403, 'INVALID_ARGUMENT', 'Cross-origin requests are refused.');
    }
    const fetchSite = req.headers['sec-fetch-site'];
    if (fetchSite === 'cross-site') return sendError(res, 403, 'INVALID_ARGUMENT', 'Cross-site requests are refused.');

    const url = new URL(req.url ?? '/', 'http://local');
    const queryToken = url.searchParams.get('token');
    if (req.method === 'GET' && queryToken !== null && !url.pathname.startsWith('/api/')) {
      if (!sameSecret(queryToken, linkCode)) {
        // A used link reopened in the browser that used it: the session is there, go to the app.
        if (hasSession(req)) return redirect(res, appPath);
        return sendError(
          res,
          401,
          'INVALID_ARGUMENT',
          'This link has already been used or is from an earlier start (links are single-use). Open the newest link printed by `cht-sync serve`.',
        );
      }
      linkCode = randomBytes(24).toString('base64url');
      options.onLinkUsed?.(linkWith(linkCode));
      res.setHeader('Set-Cookie', `${cookieName}=${session}; HttpOnly; SameSite=Strict; Path=${appPath}`);
      // Always this instance's own page: never a path taken from the request (no open redirect).
      return redirect(res, appPath);
    }
    // Inside the instance's path, the cookie is accepted and the prefix is removed.
    const isInApp = url.pathname === appPath.slice(0, -1) || url.pathname.startsWith(appPath);
    const pathname = isInApp ? '/' + url.pathname.slice(appPath.length) : url.pathname;
    if (!isAuthorised(req, isInApp)) {
      return sendError(
        res,
        401,
        'INVALID_ARGUMENT',
        'Not signed in: open the newest link printed by `cht-sync serve` (it includes a single-use access code).',
      );
    }
    if (isInApp && url.pathname === appPath.slice(0, -1)) return redirect(res, appPath);

    if (pathname.startsWith('/api/invoke/')) {
      if (req.method !== 'POST') return sendError(res, 405, 'INVALID_ARGUMENT', 'Use POST for API calls.');
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      // JSON only: an HTML form cannot send it, which closes the classic CSRF path even without the cookie rule.
      if (contentType !== 'application/json')
        return sendError(res, 415, 'INVALID_ARGUMENT', 'API calls must send Content-Type: application/json.');
      let method: string;
      try {
        method = decodeURIComponent(pathname.slice('/api/invoke/'.length));
      } catch {
        return sendError(
          res,
          400,
          'INVALID_ARGUMENT',
          'The API method name in the address is not valid (bad %-encoding).',
        );
      }
      let body: unknown;
      try {
        const text = await readBody(req);
        body = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
      } catch (error) {
        const tooBig = error instanceof Error && error.message === 'too large';
        return sendError(
          res,
          tooBig ? 413 : 400,
          'INVALID_ARGUMENT',
          tooBig ? 'The request body is too large.' : 'The request body is not valid JSON.',
        );
      }
      const wire = await invokeHandler(engine, method, body);
      return sendJson(res, 200, wire);
    }
    if (pathname === '/api/events') {
      if (req.method !== 'GET') return sendError(res, 405, 'INVALID_ARGUMENT', 'Use GET for the event stream.');
      return openEventStream(req, res);
    }
    if (pathname === '/api/export.csv' && engine.exportCsv) {
      if (req.method !== 'GET') return sendError(res, 405, 'INVALID_ARGUMENT', 'Use GET for downloads.');
      return streamCsv(url, res, engine.exportCsv.bind(engine));
    }
    if (pathname.startsWith('/api/')) return sendError(res, 404, 'NOT_FOUND', `No API endpoint ${pathname}.`);
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendError(res, 405, 'INVALID_ARGUMENT', 'Only GET is served here.');
    return serveStatic(pathname, req, res);
  }

  function isAuthorised(req: http.IncomingMessage, isInApp: boolean): boolean {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ') && sameSecret(auth.slice(7).trim(), token)) return true;
    return isInApp && hasSession(req);
  }

  function hasSession(req: http.IncomingMessage): boolean {
    const cookie = parseCookies(req.headers.cookie)[cookieName];
    return cookie !== undefined && sameSecret(cookie, session);
  }

  function redirect(res: http.ServerResponse, location: string): void {
    res.setHeader('Location', location);
    res.setHeader('Cache-Control', 'no-store');
    res.writeHead(303).end();
  }

  function linkWith(code: string): string {
    return `${baseUrl}/?token=${code}`;
  }

  /**
   * `GET /api/export.csv?table=…[&column=…&op=…&value=…]`: the same export as
   * data.exportCsv, streamed as a download (no size cap beyond the row cap).
   */
  async function streamCsv(
    url: URL,
    res: http.ServerResponse,
    exportCsv: NonNullable<Engine['exportCsv']>,
  ): Promise<void> {
    const q = url.searchParams;
    const raw: Record<string, unknown> = { table: q.get('table') ?? '' };
    if (q.has('column')) raw.filter = { column: q.get('column'), op: q.get('op'), value: q.get('value') ?? '' };
    const parsed = methodSchemas['data.exportCsv'].safeParse(raw);
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.map(String).join('.') || 'table';
      return sendError(
        res,
        400,
        'INVALID_ARGUMENT',
        `Invalid download request: ${field} ${parsed.error.issues[0]?.message ?? 'is invalid'}.`,
      );
    }
    const fileName = exportFileName(parsed.data.table, parsed.data.filter, 'csv');
    let isStarted = false;
    try {
      await exportCsv(parsed.data, async (chunk) => {
        if (!isStarted) {
          isStarted = true;
          res.writeHead(200, {
            'Content-Type': 'text/csv; charset=utf-8',
            'Content-Disposition': `attachment; filename="${fileName}"`,
            'Cache-Control': 'no-store',
          });
        }
        if (res.destroyed) throw new Error('the download was cancelled');
        if (!res.write(chunk)) await drained(res);
      });
      res.end();
    } catch (error) {
      if (!isStarted) return sendJson(res, 400, { ok: false, error: toWireError(error) });
      logger.warn('csv download failed midway', { error });
      res.destroy();
    }
  }

  function openEventStream(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(': connected\nretry: 2000\n\n');
    streams.add(res);
    const unsubscribe = EVENT_NAMES.map((name) =>
      engine.events.on(name, (payload) => {
        res.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
      }),
    );
    const heartbeat = setInterval(() => res.write(': ping\n\n'), heartbeatMs);
    heartbeat.unref();
    const end = (): void => {
      clearInterval(heartbeat);
      for (const off of unsubscribe) off();
      streams.delete(res);
    };
    req.on('close', end);
    res.on('close', end);
  }

  function serveStatic(pathname: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return sendError(res, 400, 'INVALID_ARGUMENT', 'Bad path.');
    }
    const candidate = path.resolve(staticRoot, '.' + path.posix.normalize('/' + decoded));
    if (candidate !== staticRoot && !candidate.startsWith(staticRoot + path.sep))
      return sendError(res, 404, 'NOT_FOUND', 'Not found.');
    let file = candidate;
    let stat = statOrNull(file);
    if (stat?.isDirectory()) {
      file = path.join(file, 'index.html');
      stat = statOrNull(file);
    }
    if (!stat && path.extname(decoded) === '') {
      // Client-side routes (/history, /data/…) all load the app shell.
      file = path.join(staticRoot, 'index.html');
      stat = statOrNull(file);
    }
    if (!stat?.isFile())
      return sendError(
        res,
        404,
        'NOT_FOUND',
        stat === null && file.endsWith('index.html')
          ? 'The user interface is not built: run `npm run build`.'
          : 'Not found.',
      );
    res.writeHead(200, {
      'Content-Type': MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(stat.size),
      'Cache-Control': file.endsWith('.html') ? 'no-store' : 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  const names = new Set([hostForUrl, 'localhost', '127.0.0.1', '[::1]']);
  // Binding a wildcard (0.0.0.0) means any Host name may be legitimate; only loopback names otherwise.
  const isWildcard = bindHost === '0.0.0.0' || bindHost === '::';
  const hosts = new Set([...names].map((n) => `${n}:${port}`.toLowerCase()));
  isAllowedHost = (h) => hosts.has(h) || (isWildcard && portOf(h) === port);
  baseUrl = `http://${hostForUrl === '0.0.0.0' || hostForUrl === '[::]' ? '127.0.0.1' : hostForUrl}:${port}`;
  logger.info('http host listening', { url: baseUrl });
  return {
    url: baseUrl,
    token,
    appUrl: `${baseUrl}${appPath}`,
    get urlWithToken() {
      return linkWith(linkCode);
    },
    async close() {
      for (const stream of streams) stream.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves when the socket takes more data; rejects when the reader went away (stops the cursor). */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      res.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      res.off('drain', onDrain);
      reject(new Error('the download was cancelled'));
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

function portOf(hostHeader: string): number | null {
  try {
    const parsed = new URL(`http://${hostHeader}`);
    return parsed.port === '' ? 80 : Number(parsed.port);
  } catch {
    return null;
  }
}

function setCommonHeaders(res: http.ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, code: WireError['code'], message: string): void {
  sendJson(res, status, { ok: false, error: { code, message, retryable: false } satisfies WireError });
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function statOrNull(file: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const chunks: Buffer[] = [];
    let size = 0;
    let isTooLarge = declared > MAX_BODY;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) isTooLarge = true;
      // Too large: read and drop the rest, so the client gets its 413 instead of a reset connection.
      if (isTooLarge) {
        chunks.length = 0;
        if (size > MAX_DISCARD) req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () =>
      isTooLarge ? reject(new Error('too large')) : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });
}
