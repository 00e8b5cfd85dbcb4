/**
 * The one way this app reaches a CouchDB server: where it is (credentials moved out of the URL
 * into one Authorization header), the keep-alive agent (with certificate pinning for a
 * self-signed server the user chose to trust) and the raw request. couch-client.ts builds the
 * request/response calls (nano) and the streaming feed requests on it; nothing else opens
 * sockets to CouchDB.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { EngineError } from '../core/engine-error';
import { registerSecret } from '../core/redact';
import { CouchTimeoutError } from './couch-errors';

export interface CouchConnection {
  url: string;
  username?: string;
  password?: string;
  /**
   * A self-signed server the user chose to trust: the SHA-256 fingerprint of its certificate
   * (as preflight reports it in a COUCH_TLS error's details.fingerprint256).
   */
  trustedFingerprint256?: string;
}

export interface CouchEndpoint {
  /** The server's URL without credentials and without a trailing slash. */
  url: string;
  parsed: URL;
  isHttps: boolean;
  /** The URL's path prefix (a CouchDB behind a path), without a trailing slash. */
  basePath: string;
  username?: string;
  /** The Basic authorization header value, when there is a username. */
  authorization?: string;
  trustedFingerprint256?: string;
}

/**
 * Credentials typed into the URL (`https://user:pass@host`) move to their own fields, so messages
 * can name the user and the URL we print never carries them. Explicit fields win over the URL's.
 */
export function normaliseConnection(c: CouchConnection): CouchConnection {
  let url: URL;
  try {
    url = new URL(c.url);
  } catch {
    throw new EngineError(
      'CONFIG_INVALID',
      'The CouchDB URL is not a valid URL: it should look like https://cht.example.org.',
    );
  }
  if (!url.username && !url.password) return c;
  const username = c.username ?? (decodeURIComponent(url.username) || undefined);
  const password = c.password ?? (decodeURIComponent(url.password) || undefined);
  registerSecret(password);
  url.username = '';
  url.password = '';
  return {
    ...c,
    url: url.toString().replace(/\/+$/, ''),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

export function endpointFor(conn: CouchConnection): CouchEndpoint {
  const c = normaliseConnection(conn);
  const parsed = new URL(c.url);
  registerSecret(c.password);
  const endpoint: CouchEndpoint = {
    url: parsed.toString().replace(/\/+$/, ''),
    parsed,
    isHttps: parsed.protocol === 'https:',
    basePath: parsed.pathname.replace(/\/+$/, ''),
  };
  if (c.username !== undefined && c.username !== '') {
    endpoint.username = c.username;
    endpoint.authorization = `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
  }
  if (c.trustedFingerprint256) endpoint.trustedFingerprint256 = c.trustedFingerprint256.toUpperCase();
  return endpoint;
}

/** Where we are talking to, for messages: scheme, host and port, never credentials. */
export function describeTarget(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.protocol}//${url.hostname}:${port}`;
}

/** SNI only for names: sending an IP address as server name is not allowed (RFC 6066). */
export function serverName(hostname: string): { servername?: string } {
  return net.isIP(hostname) ? {} : { servername: hostname };
}

/**
 * Certificate pinning for a self-signed CHT install: the TLS socket is handed to a request only
 * once the server's certificate has the trusted fingerprint, so no byte (credentials) goes out first.
 */
class PinnedAgent extends https.Agent {
  constructor(
    private readonly fingerprint: string,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = String(options.host ?? options.hostname ?? '');
    const socket = tls.connect({
      ...(options as tls.ConnectionOptions),
      ...serverName(host),
      rejectUnauthorized: false,
    });
    let isDone = false;
    const done = (error: Error | null): void => {
      if (isDone) return;
      isDone = true;
      callback?.(error, socket);
    };
    // The handshake counts against the request's idle timeout too (the request only sees the socket after it).
    const timeout = Number((options as { timeout?: unknown }).timeout ?? 0);
    if (timeout > 0) {
      socket.setTimeout(timeout, () => {
        if (isDone) return;
        socket.destroy();
        done(new CouchTimeoutError(timeout));
      });
      // before the check below hands the socket to the request, which sets its own timeout
      socket.once('secureConnect', () => socket.setTimeout(0));
    }
    socket.once('secureConnect', () => {
      const presented = socket.getPeerCertificate().fingerprint256?.toUpperCase();
      if (presented === this.fingerprint) {
        done(null);
        return;
      }
      socket.destroy();
      done(
        Object.assign(new Error(`the server's certificate (${presented ?? 'none'}) is not the one trusted`), {
          code: 'CERT_FINGERPRINT_MISMATCH',
        }),
      );
    });
    socket.once('error', (error) => done(error));
    return undefined;
  }
}

export function createAgent(endpoint: CouchEndpoint, maxSockets: number): http.Agent {
  if (!endpoint.isHttps) return new http.Agent({ keepAlive: true, maxSockets });
  if (endpoint.trustedFingerprint256)
    return new PinnedAgent(endpoint.trustedFingerprint256, { keepAlive: true, maxSockets });
  return new https.Agent({ keepAlive: true, maxSockets });
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  signal?: AbortSignal;
  /** No byte for this long while connected: the request fails with CouchTimeoutError (0: none). */
  idleTimeoutMs: number;
}

/**
 * One request on the endpoint's agent. Resolves with the response whatever its status (the
 * caller reads it); rejects with the socket's own error (code intact) or CouchTimeoutError.
 * The idle timeout keeps running while the body streams: a response that stops sending is
 * destroyed with the timeout error, so its reader sees it as such.
 */
export function rawRequest(
  endpoint: CouchEndpoint,
  agent: http.Agent,
  pathAndQuery: string,
  o: RawRequestOptions,
): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    if (o.signal?.aborted) {
      reject(o.signal.reason);
      return;
    }
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (endpoint.authorization) headers.authorization = endpoint.authorization;
    const req = (endpoint.isHttps ? https : http).request({
      protocol: endpoint.parsed.protocol,
      hostname: endpoint.parsed.hostname.replace(/^\[|\]$/g, ''),
      port: endpoint.parsed.port || (endpoint.isHttps ? 443 : 80),
      path: `${endpoint.basePath}${pathAndQuery}`,
      method: o.method ?? 'GET',
      headers,
      agent,
      ...(o.idleTimeoutMs > 0 ? { timeout: o.idleTimeoutMs } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    let response: IncomingMessage | null = null;
    if (o.idleTimeoutMs > 0) {
      req.on('timeout', () => {
        const error = new CouchTimeoutError(o.idleTimeoutMs);
        response?.destroy(error);
        req.destroy(error);
      });
    }
    req.on('error', reject);
    req.on('response', (res) => {
      response = res;
      resolve(res);
    });
    req.end(o.body);
  });
}
