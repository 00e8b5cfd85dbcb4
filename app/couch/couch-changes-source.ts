/**
 * The ChangesSource adapter for a real CouchDB (or pouchdb-server): streams `_changes`
 * responses through the parsers in changes-parser.ts, on the one CouchDB client. Every failure
 * leaves here as an EngineError (classifyCouchError), so the sync loop only sees engine codes.
 *
 * Compression: pages ask for gzip (a field link is slow; CHT's nginx compresses JSON at level 6)
 * and are decompressed as a stream into the same parser, so the doc text is still stored as
 * received. The link meter measures every response; a near server (its database info answered
 * within 50 ms) and a link fast enough that compressing costs more than it saves get identity
 * pages (link-meter.ts). A compressed response that
 * delivers nothing — pouchdb-server's continuous feed under gzip never flushes — is noticed by
 * what the connection does (no decoded byte within the deadline), retried with identity, and
 * that feed mode stays on identity for this server for the life of the process. The continuous
 * feed of a near server (or one whose pages come faster uncompressed) is asked uncompressed from
 * the start; a compressed one asks for 1 s heartbeats until it was seen delivering, so a
 * hold-back is noticed within 3 s (not 2 configured heartbeats + 1 s).
 */
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import zlib from 'node:zlib';
import type { ChangesSource, DatabaseInfo, FollowItem, LinkEstimate, PageItem } from '../sync/ports';
import { ContinuousFeedParser, NormalFeedParser } from './changes-parser';
import { createCouchClient, type CouchConnection, type DatabaseInfo as CouchDatabaseInfo } from './couch-client';
import { CouchNotJsonError, CouchTimeoutError, classifyCouchError, couchHttpError, retryAfterMs } from './couch-errors';
import { LinkMeter, NEAR_LATENCY_MS } from './link-meter';

const YIELD_EVERY_MS = 4;

export interface CouchChangesSourceOptions {
  /** No byte for this long during a normal-feed request counts as a timeout (default 60 s). */
  requestTimeoutMs?: number;
  /**
   * Only the documents this Mango selector matches travel (a scope, app/scope): every feed
   * request becomes `POST _changes?filter=_selector` with `{"selector": …}`, as CouchDB 2+/3 asks.
   */
  selector?: Record<string, unknown>;
}

type FeedMode = 'page' | 'follow';

/** Servers whose compressed responses stalled, per feed mode: identity for them from then on. */
const gzipStalled = new Map<string, Set<FeedMode>>();

/**
 * Servers whose compressed continuous feed was seen delivering: asked with the configured
 * heartbeat. Until then a compressed feed asks for a heartbeat at least this often, so a
 * compression that holds the feed back is noticed within 2 of them + 1 s (3 s, not 21).
 */
const gzipFollowFlowed = new Set<string>();
const UNPROVEN_GZIP_HEARTBEAT_MS = 1000;

function rememberStall(url: string, mode: FeedMode): void {
  const modes = gzipStalled.get(url) ?? new Set<FeedMode>();
  modes.add(mode);
  gzipStalled.set(url, modes);
}

/** The compressed response delivered no decoded byte in time. */
class GzipStallError extends Error {
  constructor(readonly ms: number) {
    super(`a compressed response delivered nothing for ${Math.round(ms / 1000)} s`);
    this.name = 'GzipStallError';
  }
}

interface OpenResponse {
  res: IncomingMessage;
  /** The body as decoded bytes. */
  chunks: AsyncIterable<Buffer>;
  encoding: 'gzip' | 'identity';
  sentAt: number;
  wire: { bytes: number; firstAt: number };
  decoded: { bytes: number };
}

const isWhitespace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

export function createCouchChangesSource(
  conn: CouchConnection,
  database: string,
  options: CouchChangesSourceOptions = {},
): ChangesSource {
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const client = createCouchClient(conn, { timeoutMs: Math.min(requestTimeoutMs, 30_000), maxSockets: 2 });
  const url = client.endpoint.url;
  const dbPath = `/${encodeURIComponent(database)}`;
  const meter = new LinkMeter(gzipStalled.get(url)?.has('page') ?? false);
  let isFollowGzipRefused = gzipStalled.get(url)?.has('follow') ?? false;
  const classify = (error: unknown, signal: AbortSignal): unknown =>
    signal.aborted ? signal.reason : classifyCouchError(error, database, url);

  /** Opens a feed request: a non-200 status throws (classified, Retry-After kept); the body comes decoded and counted. */
  const selectorBody = options.selector ? Buffer.from(JSON.stringify({ selector: options.selector })) : null;
  const changesPath = (query: URLSearchParams): string => {
    if (selectorBody) query.set('filter', '_selector');
    return `${dbPath}/_changes?${query.toString()}`;
  };

  async function open(
    pathAndQuery: string,
    o: {
      signal: AbortSignal;
      idleTimeoutMs: number;
      encoding: 'gzip' | 'identity';
      onBytes?: (wireBytes: number) => void;
    },
  ): Promise<OpenResponse> {
    const sentAt = performance.now();
    const res = await client.stream(pathAndQuery, {
      signal: o.signal,
      idleTimeoutMs: o.idleTimeoutMs,
      encoding: o.encoding,
      ...(selectorBody ? { body: selectorBody } : {}),
    });
    const wire = { bytes: 0, firstAt: 0 };
    const decoded = { bytes: 0 };
    const contentEncoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
    const isCompressed = contentEncoding === 'gzip' || contentEncoding === 'x-gzip' || contentEncoding === 'deflate';
    const onWire = (n: number): void => {
      if (wire.bytes === 0) wire.firstAt = performance.now();
      wire.bytes += n;
      meter.addWireBytes(n);
      o.onBytes?.(wire.bytes);
    };
    let body: AsyncIterable<Buffer>;
    if (isCompressed) {
      const inflate = contentEncoding === 'deflate' ? zlib.createInflate() : zlib.createGunzip();
      res.on('data', (chunk: Buffer) => onWire(chunk.length));
      pipeline(res, inflate, () => undefined);
      body = inflate;
    } else {
      body = (async function* () {
        for await (const chunk of res as AsyncIterable<Buffer>) {
          onWire(chunk.length);
          yield chunk;
        }
      })();
    }
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      let text = '';
      try {
        for await (const chunk of body) {
          if (text.length < 4096) text += chunk.toString('utf8');
        }
      } catch {
        // the status says enough
      }
      throw couchHttpError(status, text, database, url, retryAfterMs(res.headers['retry-after']));
    }
    // An HTML page (a login proxy, a captive portal) with status 200 is not a cut-off feed: say what it is.
    const contentType = String(res.headers['content-type'] ?? '');
    const chunks = (async function* () {
      let isSniffed = false;
      for await (const chunk of body) {
        decoded.bytes += chunk.length;
        if (!isSniffed) {
          const first = chunk.findIndex((b) => !isWhitespace(b));
          if (first === -1) {
            yield chunk;
            continue;
          }
          isSniffed = true;
          if (chunk[first] !== 0x7b || /html/i.test(contentType))
            throw new CouchNotJsonError(contentType, chunk.toString('utf8', first, first + 512));
        }
        yield chunk;
      }
    })();
    return { res, chunks, encoding: isCompressed ? 'gzip' : 'identity', sentAt, wire, decoded };
  }

  /** The database info, asked once: also the timing that tells a near server from a far one. */
  let probe: Promise<CouchDatabaseInfo> | null = null;
  const probeInfo = (signal: AbortSignal): Promise<CouchDatabaseInfo> => {
    if (!probe) {
      const started = performance.now();
      probe = client.databaseInfo(database, signal);
      probe.then(
        () => meter.probed(performance.now() - started),
        () => meter.probed(Number.POSITIVE_INFINITY),
      );
    }
    return probe;
  };

  /**
   * Near (a LAN) or far, before the first request of a feed: the database info (which the sync
   * asks anyway) is waited for, but a far link not longer than the near threshold.
   */
  const untilProbed = async (signal: AbortSignal): Promise<void> => {
    if (meter.isProbed) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      probeInfo(signal).catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, NEAR_LATENCY_MS))),
    ]);
    clearTimeout(timer);
  };

  async function* readPage(
    query: URLSearchParams,
    encoding: 'gzip' | 'identity',
    o: { signal: AbortSignal; onOpen?: () => void; onBytes?: (wireBytes: number) => void },
  ): AsyncGenerator<PageItem> {
    let response: OpenResponse | null = null;
    try {
      response = await open(changesPath(query), {
        signal: o.signal,
        idleTimeoutMs: requestTimeoutMs,
        encoding,
        ...(o.onBytes ? { onBytes: o.onBytes } : {}),
      });
      o.onOpen?.();
      const parser = new NormalFeedParser();
      let rows = 0;
      let lastYield = performance.now();
      for await (const chunk of response.chunks) {
        for (const row of parser.push(chunk)) {
          rows++;
          yield { kind: 'row', row };
          // A page that arrived at once would be parsed (and its rows compacted) in one go: let
          // the event loop and the other databases' PostgreSQL replies in every few milliseconds.
          // Checked per row, so one large chunk cannot block either.
          if (performance.now() - lastYield > YIELD_EVERY_MS) {
            await setImmediate();
            lastYield = performance.now();
          }
        }
        if (performance.now() - lastYield > YIELD_EVERY_MS) {
          await setImmediate();
          lastYield = performance.now();
        }
      }
      const end = parser.end();
      const now = performance.now();
      const firstAt = response.wire.firstAt || now;
      meter.record({
        encoding: response.encoding,
        latencyMs: firstAt - response.sentAt,
        streamMs: now - firstAt,
        wireBytes: response.wire.bytes,
        decodedBytes: response.decoded.bytes,
        rows,
      });
      yield { kind: 'end', lastSeq: end.lastSeq, pending: end.pending };
    } catch (error) {
      if (
        encoding === 'gzip' &&
        error instanceof CouchTimeoutError &&
        response !== null &&
        response.decoded.bytes === 0 &&
        !o.signal.aborted
      ) {
        throw new GzipStallError(error.ms);
      }
      throw error;
    } finally {
      if (response && !response.res.complete) response.res.destroy();
    }
  }

  return {
    database,

    async *page({ since, limit, signal, onOpen, onBytes }): AsyncGenerator<PageItem> {
      const query = new URLSearchParams({ limit: String(limit), seq_interval: String(limit), include_docs: 'true' });
      if (since !== null) query.set('since', since);
      const hooks = { signal, ...(onOpen ? { onOpen } : {}), ...(onBytes ? { onBytes } : {}) };
      try {
        // Near or far decides the first page's encoding.
        await untilProbed(signal);
        try {
          yield* readPage(query, meter.encoding(), hooks);
        } catch (error) {
          if (!(error instanceof GzipStallError)) throw error;
          // Nothing was yielded (nothing decoded): ask again, uncompressed, and stay so for this server.
          meter.refuseGzip();
          rememberStall(url, 'page');
          yield* readPage(query, 'identity', hooks);
        }
      } catch (error) {
        throw classify(error, signal);
      }
    },

    async *follow({ since, signal, heartbeatMs, onOpen }): AsyncGenerator<FollowItem> {
      const query = new URLSearchParams({ feed: 'continuous', heartbeat: String(heartbeatMs), include_docs: 'true' });
      if (since !== null) query.set('since', since);
      await untilProbed(signal);
      for (;;) {
        // A server or proxy that compresses may hold live changes back until it has enough to send
        // (pouchdb-server never flushes; nginx's gzip may not). Where compressing buys nothing — a
        // near server, or pages read faster uncompressed — the feed is asked uncompressed from the
        // start; otherwise compressed (with frequent heartbeats until it was seen delivering), and
        // uncompressed once it stalled.
        const encoding = isFollowGzipRefused || meter.isNear || meter.encoding() === 'identity' ? 'identity' : 'gzip';
        const beatMs =
          encoding === 'gzip' && !gzipFollowFlowed.has(url)
            ? Math.min(heartbeatMs, UNPROVEN_GZIP_HEARTBEAT_MS)
            : heartbeatMs;
        query.set('heartbeat', String(beatMs));
        let response: OpenResponse | null = null;
        let stallTimer: NodeJS.Timeout | undefined;
        try {
          response = await open(changesPath(query), {
            signal,
            idleTimeoutMs: Math.max(3 * beatMs, 30_000),
            encoding,
          });
          onOpen?.();
          const isGzip = response.encoding === 'gzip';
          if (isGzip) {
            // A healthy feed sends a heartbeat at least every beatMs: nothing decoded by twice
            // that means the compression holds everything back.
            const stallMs = 2 * beatMs + 1000;
            const opened = response;
            stallTimer = setTimeout(() => {
              if (opened.decoded.bytes === 0) opened.res.destroy(new GzipStallError(stallMs));
            }, stallMs);
          }
          const parser = new ContinuousFeedParser();
          for await (const chunk of response.chunks) {
            clearTimeout(stallTimer);
            if (isGzip) gzipFollowFlowed.add(url);
            for (const item of parser.push(chunk)) {
              yield item;
              if (item.kind === 'end') return;
            }
          }
          // A continuous feed only ends when the server closes it: reconnect from the last checkpoint.
          throw Object.assign(new Error('the server closed the continuous changes feed'), { code: 'ECONNRESET' });
        } catch (error) {
          if (error instanceof GzipStallError && !signal.aborted) {
            isFollowGzipRefused = true;
            rememberStall(url, 'follow');
            continue;
          }
          throw classify(error, signal);
        } finally {
          clearTimeout(stallTimer);
          if (response && !response.res.complete) response.res.destroy();
        }
      }
    },

    async info(signal): Promise<DatabaseInfo> {
      try {
        const info = await probeInfo(signal);
        return { docCount: info.docCount, deletedCount: info.deletedCount };
      } catch (error) {
        throw classify(error, signal);
      }
    },

    link(): LinkEstimate {
      return meter.estimate();
    },

    close() {
      client.close();
    },
  };
}
