/**
 * The one CouchDB client (issue 9 §3): used by preflight, the sync's feed source, reconciliation
 * and the demo. One transport (couch-transport.ts: credentials in one header, keep-alive agent,
 * certificate pinning, idle timeouts) carries both kinds of call:
 *  - request/response calls (server and database info, `_all_dbs`, `_all_docs`, `_session`) go
 *    through nano, whose fetch is handed a dispatcher that sends every request on our agent —
 *    so nano's requests get the same pinning, timeouts and compression as everything else;
 *  - the `_changes` feed is read as a stream by our own parser (couch-changes-source.ts), which
 *    is faster than nano's changes readers (README: measured) and keeps each doc's text as sent.
 * Failures leave as EngineErrors (couch-errors.ts): network failures named with the fix, HTTP
 * statuses with the database.
 */
import type http from 'node:http';
import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import nano from 'nano';
import { EngineError } from '../core/engine-error';
import { classifyConnectionError, classifyCouchError, couchHttpError } from './couch-errors';
import { createAgent, endpointFor, rawRequest, type CouchConnection, type CouchEndpoint } from './couch-transport';

export type { CouchConnection, CouchEndpoint } from './couch-transport';

/** A reply whose status the caller interprets (preflight: 401 vs 404 mean different things per endpoint). */
export interface CouchReply {
  status: number;
  body: string;
  json: unknown;
}

export interface ServerInfo {
  /** `couchdb` in CouchDB's welcome, `express-pouchdb` in pouchdb-server's. */
  isCouch: boolean;
  version: string;
  vendor: string;
  raw: Record<string, unknown>;
}

export interface DatabaseInfo {
  name: string;
  docCount: number;
  deletedCount: number;
  /** Bytes of the documents (sizes.external, data_size, …), 0 when the server reports none. */
  sizeBytes: number;
  /** The database's update seq (opaque). */
  updateSeq: string | null;
}

export interface AllDocsRow {
  id: string;
  rev: string;
}

export interface AllDocsPage {
  rows: AllDocsRow[];
  /** Pass as `startAfter` for the next page; null when this page was the last. */
  next: string | null;
  totalRows: number | null;
}

export interface CouchClientOptions {
  /** No byte for this long during a request/response call: COUCH_TIMEOUT (default 10 s). */
  timeoutMs?: number;
  /** Sockets kept per client (default 4). */
  maxSockets?: number;
}

export interface StreamOptions {
  signal: AbortSignal;
  /** No byte for this long: the request or the body fails with CouchTimeoutError. */
  idleTimeoutMs: number;
  /** `gzip` asks for gzip or deflate; `identity` for the body as is. */
  encoding: 'gzip' | 'identity';
  /** A JSON body: the request is a POST (a `_changes` selector). */
  body?: Buffer;
}

export interface CouchClient {
  readonly endpoint: CouchEndpoint;
  /** A GET whose status the caller reads; network failures throw classified (COUCH_UNREACHABLE, COUCH_TLS, …). */
  get(path: string, o?: { timeoutMs?: number; signal?: AbortSignal }): Promise<CouchReply>;
  /** Any method with an optional JSON body (the demo server's setup and writes); the status is the caller's to read. */
  send(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
    o?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<CouchReply>;
  serverInfo(signal?: AbortSignal): Promise<ServerInfo>;
  /** `_session`: who the server thinks we are (name null: anonymous). */
  session(signal?: AbortSignal): Promise<{ name: string | null; roles: string[] }>;
  allDbs(signal?: AbortSignal): Promise<string[]>;
  databaseInfo(database: string, signal?: AbortSignal): Promise<DatabaseInfo>;
  /**
   * One page of `_all_docs` (ids and winning revs, no bodies), in id order, after `startAfter`
   * (exclusive). Deleted documents are not listed (CouchDB's `_all_docs` semantics).
   */
  allDocs(
    database: string,
    o: { startAfter?: string | null; limit: number; signal?: AbortSignal },
  ): Promise<AllDocsPage>;
  /**
   * A JSON request/response call on a database (`_all_docs` with keys, `_find`, one doc):
   * the parsed body; an HTTP status or a network failure throws an EngineError naming the database.
   */
  json<T>(
    database: string,
    o: { method?: 'GET' | 'POST'; path: string; body?: unknown; signal?: AbortSignal; timeoutMs?: number },
  ): Promise<T>;
  /** A streaming GET (the changes feed; a POST when there is a body): the response whatever its status; the caller reads and closes it. */
  stream(pathAndQuery: string, o: StreamOptions): Promise<IncomingMessage>;
  close(): void;
}

interface CallContext {
  timeoutMs: number;
  signal?: AbortSignal;
  /** The socket-level error of the request, code intact (fetch wraps it away). */
  error?: unknown;
  status?: number;
  /** The first bytes of a non-2xx body, as received (maybe compressed), and their encoding. */
  errorBody: Buffer[];
  errorBodyBytes: number;
  encoding?: string;
}

type DispatchHeaders =
  string[] | Record<string, string | string[] | undefined> | Iterable<[string, string]> | null | undefined;
interface DispatchOptions {
  origin?: string | URL;
  path: string;
  method?: string;
  headers?: DispatchHeaders;
  body?: string | Uint8Array | AsyncIterable<Uint8Array | string> | null;
}
interface DispatchHandler {
  onConnect?(abort: (reason?: Error) => void): void;
  onResponseStarted?(): void;
  onHeaders?(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: Buffer[] | null): void;
  onError?(error: Error): void;
}

function headerRecord(h: DispatchHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (Array.isArray(h)) {
    for (let i = 0; i + 1 < h.length; i += 2) out[String(h[i]).toLowerCase()] = String(h[i + 1]);
    return out;
  }
  if (typeof (h as Iterable<[string, string]>)[Symbol.iterator] === 'function') {
    for (const [k, v] of h as Iterable<[string, string]>) out[k.toLowerCase()] = v;
    return out;
  }
  for (const [k, v] of Object.entries(h as Record<string, string | string[] | undefined>))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function bodyBuffer(body: DispatchOptions['body']): Promise<Buffer | undefined> {
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(typeof part === 'string' ? Buffer.from(part) : Buffer.from(part));
  return Buffer.concat(parts);
}

/**
 * An undici-style dispatcher (what nano's fetch calls) that sends each request on our agent:
 * the fetch inside nano never opens a socket of its own. Records the socket error and the
 * start of an error body in its call's context, which fetch and nano would otherwise lose.
 *
 * One dispatcher (and one nano) per call, holding that call's context: not AsyncLocalStorage,
 * whose promise hooks, once on, tax every promise in the process — the feed reader's per-row
 * async generators paid about 10 % of the sync's CPU for them (Node 20).
 */
function createDispatcher(endpoint: CouchEndpoint, agent: http.Agent, ctx: CallContext) {
  return {
    dispatch(opts: DispatchOptions, handler: DispatchHandler): boolean {
      let isAborted = false;
      let current: { destroy(error?: Error): void } | null = null;
      handler.onConnect?.((reason) => {
        isAborted = true;
        current?.destroy(reason ?? new Error('aborted'));
      });
      const fail = (error: Error): void => {
        if (ctx.error === undefined) ctx.error = error;
        handler.onError?.(error);
      };
      const headers = headerRecord(opts.headers);
      delete headers.host;
      delete headers.connection;
      delete headers.authorization; // ours is added by the transport
      const path = opts.path.startsWith(endpoint.basePath) ? opts.path.slice(endpoint.basePath.length) : opts.path;
      void (async () => {
        const body = await bodyBuffer(opts.body);
        if (isAborted) return;
        const res = await rawRequest(endpoint, agent, path, {
          method: opts.method ?? 'GET',
          headers,
          ...(body ? { body } : {}),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          idleTimeoutMs: ctx.timeoutMs,
        });
        current = res;
        if (isAborted) {
          res.destroy();
          return;
        }
        const status = res.statusCode ?? 0;
        ctx.status = status;
        ctx.encoding = String(res.headers['content-encoding'] ?? '');
        handler.onResponseStarted?.();
        const rawHeaders = res.rawHeaders.map((h) => Buffer.from(h, 'latin1'));
        const isFlowing =
          handler.onHeaders?.(status, rawHeaders, () => res.resume(), res.statusMessage ?? '') !== false;
        if (!isFlowing) res.pause();
        res.on('data', (chunk: Buffer) => {
          if (status >= 300 && ctx.errorBodyBytes < 65_536) {
            ctx.errorBody.push(chunk);
            ctx.errorBodyBytes += chunk.length;
          }
          if (handler.onData?.(chunk) === false) res.pause();
        });
        res.on('end', () => handler.onComplete?.([]));
        res.on('error', fail);
      })().catch((error: unknown) => fail(error instanceof Error ? error : new Error(String(error))));
      return true;
    },
    close(): Promise<void> {
      return Promise.resolve();
    },
    destroy(): Promise<void> {
      return Promise.resolve();
    },
  };
}

function decodeBody(parts: Buffer[], encoding: string | undefined): string {
  const raw = Buffer.concat(parts);
  try {
    if (encoding === 'gzip') return zlib.gunzipSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('utf8');
    if (encoding === 'deflate')
      return zlib.inflateSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('utf8');
  } catch {
    return '';
  }
  return raw.toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function createCouchClient(conn: CouchConnection, options: CouchClientOptions = {}): CouchClient {
  const endpoint = endpointFor(conn);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const agent = createAgent(endpoint, options.maxSockets ?? 4);
  /** A nano whose requests go out on our agent and report into this call's context. */
  const serverFor = (ctx: CallContext): nano.ServerScope =>
    nano({
      url: endpoint.url,
      parseUrl: false,
      agentOptions: createDispatcher(endpoint, agent, ctx) as unknown as nano.Configuration['agentOptions'],
    } as nano.Configuration & { parseUrl: boolean });

  /** Runs one nano call in its own context; HTTP statuses come back as `{status}`, network failures throw classified. */
  async function call<T>(
    fn: (server: nano.ServerScope) => Promise<T>,
    o: { timeoutMs?: number; signal?: AbortSignal; database?: string },
  ): Promise<{ ok: true; value: T; status: number } | { ok: false; status: number; body: string; json: unknown }> {
    const ctx: CallContext = {
      timeoutMs: o.timeoutMs ?? timeoutMs,
      errorBody: [],
      errorBodyBytes: 0,
      ...(o.signal ? { signal: o.signal } : {}),
    };
    try {
      const value = await fn(serverFor(ctx));
      return { ok: true, value, status: ctx.status ?? 200 };
    } catch (error) {
      const status = (error as { statusCode?: unknown }).statusCode;
      if (typeof status === 'number' && ctx.status !== undefined) {
        const body = decodeBody(ctx.errorBody, ctx.encoding);
        return { ok: false, status, body, json: parseJson(body) };
      }
      if (o.signal?.aborted) throw o.signal.reason;
      // The sync and reconciliation speak of a database (and retry what is retryable); preflight of the server.
      if (o.database !== undefined) throw classifyCouchError(ctx.error ?? error, o.database, endpoint.url);
      throw await classifyConnectionError(
        ctx.error ?? error,
        endpoint.parsed,
        ctx.timeoutMs,
        endpoint.trustedFingerprint256,
      );
    }
  }

  const failed = (r: { status: number; body: string }, database: string): EngineError =>
    couchHttpError(r.status, r.body, database, endpoint.url);

  return {
    endpoint,

    get(path, o = {}) {
      return this.send('GET', path, undefined, o);
    },

    async send(method, path, body, o = {}) {
      const request = {
        method,
        path: path.replace(/^\//, ''),
        dontParse: true,
        ...(body !== undefined ? { body } : {}),
      } as nano.RequestOptions;
      const r = await call((server) => server.relax(request), o);
      if (!r.ok) return { status: r.status, body: r.body, json: r.json };
      const text = Buffer.isBuffer(r.value)
        ? r.value.toString('utf8')
        : typeof r.value === 'string'
          ? r.value
          : JSON.stringify(r.value);
      return { status: r.status, body: text, json: parseJson(text) };
    },

    async serverInfo(signal) {
      const r = await call((server) => server.info() as Promise<unknown>, signal ? { signal } : {});
      if (!r.ok) throw failed(r, '(server)');
      const raw = (r.value && typeof r.value === 'object' ? r.value : {}) as Record<string, unknown>;
      const vendor = raw.vendor as { name?: unknown } | undefined;
      return {
        isCouch: raw.couchdb !== undefined || raw['express-pouchdb'] !== undefined,
        version: typeof raw.version === 'string' ? raw.version : 'unknown',
        vendor:
          typeof vendor?.name === 'string'
            ? vendor.name
            : raw['express-pouchdb'] !== undefined
              ? 'PouchDB Server'
              : 'Apache CouchDB',
        raw,
      };
    },

    async session(signal) {
      const r = await call((server) => server.session(), signal ? { signal } : {});
      if (!r.ok) throw failed(r, '_session');
      const userCtx = (r.value as { userCtx?: { name?: unknown; roles?: unknown } }).userCtx;
      return {
        name: typeof userCtx?.name === 'string' ? userCtx.name : null,
        roles: Array.isArray(userCtx?.roles) ? userCtx.roles.filter((x): x is string => typeof x === 'string') : [],
      };
    },

    async allDbs(signal) {
      const r = await call((server) => server.db.list(), signal ? { signal } : {});
      if (!r.ok) throw failed(r, '_all_dbs');
      return (r.value as unknown[]).filter((n): n is string => typeof n === 'string');
    },

    async databaseInfo(database, signal) {
      const r = await call((server) => server.db.get(database) as Promise<unknown>, signal ? { signal } : {});
      if (!r.ok) throw failed(r, database);
      const info = (r.value ?? {}) as {
        doc_count?: unknown;
        doc_del_count?: unknown;
        sizes?: { file?: unknown; external?: unknown };
        disk_size?: unknown;
        data_size?: unknown;
        update_seq?: unknown;
      };
      if (
        typeof info !== 'object' ||
        (info.doc_count === undefined && (info as { db_name?: unknown }).db_name === undefined)
      ) {
        throw new EngineError(
          'COUCH_PROTOCOL',
          `The CouchDB server at ${endpoint.url} answered for the database "${database}", but not as a CouchDB database. Check the CouchDB URL: it should be the CHT instance's address or CouchDB itself.`,
          { details: { database } },
        );
      }
      const seq = info.update_seq;
      return {
        name: database,
        docCount: num(info.doc_count),
        deletedCount: num(info.doc_del_count),
        sizeBytes: num(info.sizes?.external) || num(info.data_size) || num(info.sizes?.file) || num(info.disk_size),
        updateSeq: seq === undefined || seq === null ? null : typeof seq === 'string' ? seq : JSON.stringify(seq),
      };
    },

    async allDocs(database, o) {
      const limit = Math.max(1, Math.floor(o.limit));
      // startkey is inclusive: ask one more and drop the start id itself.
      const params: nano.DocumentListParams = o.startAfter ? { startkey: o.startAfter, limit: limit + 1 } : { limit };
      const r = await call((server) => server.use(database).list(params), o.signal ? { signal: o.signal } : {});
      if (!r.ok) throw failed(r, database);
      const list = r.value as { rows?: { id?: unknown; value?: { rev?: unknown } }[]; total_rows?: unknown };
      let rows = (list.rows ?? [])
        .filter((row) => typeof row.id === 'string')
        .map((row) => ({ id: row.id as string, rev: typeof row.value?.rev === 'string' ? row.value.rev : '' }));
      if (o.startAfter && rows[0]?.id === o.startAfter) rows = rows.slice(1);
      rows = rows.slice(0, limit);
      return {
        rows,
        next: rows.length === limit ? (rows[rows.length - 1]?.id ?? null) : null,
        totalRows: typeof list.total_rows === 'number' ? list.total_rows : null,
      };
    },

    async json<T>(
      database: string,
      o: { method?: 'GET' | 'POST'; path: string; body?: unknown; signal?: AbortSignal; timeoutMs?: number },
    ): Promise<T> {
      const request = {
        db: database,
        method: o.method ?? 'GET',
        path: o.path.replace(/^\//, ''),
        ...(o.body !== undefined ? { body: o.body } : {}),
      };
      const r = await call((server) => server.relax(request) as Promise<T>, {
        database,
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
      });
      if (!r.ok) throw failed(r, database);
      return r.value;
    },

    stream(pathAndQuery, o) {
      const headers: Record<string, string> = {
        'accept-encoding': o.encoding === 'gzip' ? 'gzip, deflate' : 'identity',
      };
      if (o.body) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(o.body.length);
      }
      return rawRequest(endpoint, agent, pathAndQuery, {
        headers,
        signal: o.signal,
        idleTimeoutMs: o.idleTimeoutMs,
        ...(o.body ? { method: 'POST', body: o.body } : {}),
      });
    },

    close() {
      agent.destroy();
    },
  };
}
