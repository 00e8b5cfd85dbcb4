/**
 * A field link in front of a real CouchDB-protocol server, for tests and `npm run bench`:
 * an HTTP proxy that compresses JSON as CHT's nginx does (`gzip on; gzip_comp_level 6;
 * gzip_proxied any;`, only when the client asks), shapes every response through one shared
 * link (bytes per second, latency before each response), and injects faults on request: a
 * connection cut after N bytes of a body, a body that stops sending, a status (503 with
 * Retry-After), or a server that ignores `since` (the query parameter is dropped on the way).
 * It counts the bytes it puts on the wire, per request and in total.
 *
 * Not a mock: every answer comes from the server behind it. Like nginx's gzip, the compressor
 * is not flushed until it has enough to send, so a continuous feed asked with gzip holds its
 * heartbeats back — which is what a client must notice by itself.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import zlib from 'node:zlib';

export type ProxyFault =
  /** Close the client's connection once this many body bytes of the response went out. */
  | { kind: 'cut'; afterBytes: number; match?: RegExp }
  /** Stop sending the body after this many bytes (the socket stays open) for `ms` (default: until the client leaves). */
  | { kind: 'stall'; afterBytes: number; ms?: number; match?: RegExp }
  /** Answer with this status (and headers, body) instead of asking the server. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string; match?: RegExp };

export interface ShapingOptions {
  /** Link rate for responses, bytes per second (0 or absent: unlimited). */
  bytesPerSecond?: number;
  /** Added before each response starts (request travel + first byte), ms. */
  latencyMs?: number;
  /** gzip level for JSON when the client accepts gzip (default 6, as CHT's nginx); 0: never compress. */
  gzipLevel?: number;
  /** Drop `since` from `_changes` requests: a server that returns the same page for every position. */
  ignoreSince?: boolean;
}

export interface ProxiedRequest {
  method: string;
  url: string;
  acceptEncoding: string;
  status: number;
  contentEncoding: string;
  /** Body bytes put on the wire (after compression). */
  wireBytes: number;
}

export interface ShapingProxy {
  url: string;
  /** Faults applied, in order, to the next requests they match (default: any `_changes`). */
  fault(f: ProxyFault): void;
  /** Change the link's shape for the requests that follow. */
  shape(o: ShapingOptions): void;
  /** Body bytes on the wire since the start or the last reset. */
  readonly wireBytes: number;
  readonly requests: ProxiedRequest[];
  reset(): void;
  close(): Promise<void>;
}

const CHANGES = /\/_changes/;

export async function startShapingProxy(upstreamUrl: string, options: ShapingOptions = {}): Promise<ShapingProxy> {
  const upstream = new URL(upstreamUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  let shape: Required<ShapingOptions> = {
    bytesPerSecond: 0,
    latencyMs: 0,
    gzipLevel: 6,
    ignoreSince: false,
    ...options,
  };
  const faults: ProxyFault[] = [];
  const requests: ProxiedRequest[] = [];
  let wireBytes = 0;
  /** When the shared link is next free to send, ms (performance.now clock). */
  let linkFreeAt = 0;
  const sockets = new Set<Socket>();

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

  /** Sends `chunk` over the shaped link: each piece waits for its slot on the one shared link. */
  async function send(
    res: http.ServerResponse,
    chunk: Buffer,
    record: ProxiedRequest,
    fault: ProxyFault | undefined,
    state: { sent: number; isDead: boolean },
  ): Promise<void> {
    const rate = shape.bytesPerSecond;
    const piece = rate > 0 ? Math.max(256, Math.floor(rate / 50)) : chunk.length;
    for (let offset = 0; offset < chunk.length && !state.isDead; offset += piece) {
      let part = chunk.subarray(offset, offset + piece);
      if (fault && (fault.kind === 'cut' || fault.kind === 'stall') && state.sent + part.length >= fault.afterBytes) {
        part = part.subarray(0, Math.max(0, fault.afterBytes - state.sent));
        await transmit(res, part, record, state, rate);
        if (fault.kind === 'cut') {
          state.isDead = true;
          res.socket?.destroy();
          return;
        }
        if (fault.ms === undefined) {
          // until the client gives up: it destroys its socket
          state.isDead = true;
          return;
        }
        await sleep(fault.ms);
        fault = undefined;
        const rest = chunk.subarray(offset + part.length, offset + piece);
        if (rest.length) await transmit(res, rest, record, state, rate);
        continue;
      }
      await transmit(res, part, record, state, rate);
    }
  }

  async function transmit(
    res: http.ServerResponse,
    part: Buffer,
    record: ProxiedRequest,
    state: { sent: number; isDead: boolean },
    rate: number,
  ): Promise<void> {
    if (part.length === 0 || res.destroyed) return;
    if (rate > 0) {
      const now = performance.now();
      const start = Math.max(now, linkFreeAt);
      linkFreeAt = start + (part.length * 1000) / rate;
      await sleep(linkFreeAt - now);
    }
    if (res.destroyed) {
      state.isDead = true;
      return;
    }
    state.sent += part.length;
    record.wireBytes += part.length;
    wireBytes += part.length;
    if (!res.write(part)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = req.url ?? '/';
      const acceptEncoding = String(req.headers['accept-encoding'] ?? '');
      const record: ProxiedRequest = {
        method: req.method ?? 'GET',
        url,
        acceptEncoding,
        status: 0,
        contentEncoding: '',
        wireBytes: 0,
      };
      requests.push(record);
      const index = faults.findIndex((f) => (f.match ?? CHANGES).test(url));
      const fault = index >= 0 ? faults.splice(index, 1)[0] : undefined;
      const body: Buffer[] = [];
      for await (const chunk of req) body.push(chunk as Buffer);
      if (shape.latencyMs > 0) await sleep(shape.latencyMs);
      if (fault?.kind === 'status') {
        record.status = fault.status;
        res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
        res.end(
          fault.body ?? JSON.stringify({ error: 'service_unavailable', reason: 'injected by the shaping proxy' }),
        );
        return;
      }
      let path = url;
      if (shape.ignoreSince && CHANGES.test(url)) {
        const parsed = new URL(url, 'http://proxy');
        parsed.searchParams.delete('since');
        path = `${parsed.pathname}?${parsed.searchParams.toString()}`;
      }
      const headers = { ...req.headers, host: upstream.host, 'accept-encoding': 'identity' };
      const up = http.request({
        hostname: upstream.hostname,
        port: upstream.port,
        path,
        method: req.method,
        headers,
        agent,
      });
      up.on('error', () => res.destroy());
      res.on('close', () => up.destroy());
      up.on('response', (upRes) => {
        void (async () => {
          const type = String(upRes.headers['content-type'] ?? '');
          const isGzip =
            shape.gzipLevel > 0 && /\bgzip\b/.test(acceptEncoding) && /json/.test(type) && req.method !== 'HEAD';
          const outHeaders: http.OutgoingHttpHeaders = { ...upRes.headers };
          record.status = upRes.statusCode ?? 502;
          let source: AsyncIterable<Buffer> = upRes;
          if (isGzip) {
            delete outHeaders['content-length'];
            outHeaders['content-encoding'] = 'gzip';
            outHeaders.vary = 'Accept-Encoding';
            record.contentEncoding = 'gzip';
            const gzip = zlib.createGzip({ level: shape.gzipLevel });
            upRes.pipe(gzip);
            upRes.on('error', (e) => gzip.destroy(e));
            source = gzip;
          }
          res.writeHead(upRes.statusCode ?? 502, outHeaders);
          const state = { sent: 0, isDead: false };
          try {
            for await (const chunk of source) {
              await send(res, chunk, record, fault, state);
              if (state.isDead) break;
            }
            if (!state.isDead) res.end();
          } catch {
            res.destroy();
          } finally {
            if (state.isDead) upRes.destroy();
          }
        })();
      });
      up.end(Buffer.concat(body));
    })().catch(() => res.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    fault: (f) => void faults.push(f),
    shape: (o) => {
      shape = { ...shape, ...o };
    },
    get wireBytes() {
      return wireBytes;
    },
    requests,
    reset() {
      wireBytes = 0;
      requests.length = 0;
      faults.length = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
