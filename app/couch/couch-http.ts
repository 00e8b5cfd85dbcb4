/**
 * A minimal HTTP(S) client for CouchDB's feed endpoints, on node:http with one keep-alive
 * agent per database stream (so a stream reuses its connection). We do not use fetch:
 * it asks for gzip, and a gzip'd continuous feed stalls on pouchdb-server; here every
 * request sends `Accept-Encoding: identity`. Credentials travel in an Authorization header,
 * never in a URL that could be logged.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { CouchTimeoutError, couchHttpError } from './couch-errors';

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

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = tls.connect({ ...(options as tls.ConnectionOptions), rejectUnauthorized: false });
    let isDone = false;
    const done = (error: Error | null): void => {
      if (isDone) return;
      isDone = true;
      callback?.(error, socket);
    };
    socket.once('secureConnect', () => {
      const presented = socket.getPeerCertificate().fingerprint256?.toUpperCase();
      if (presented === this.fingerprint) {
        done(null);
        return;
      }
      socket.destroy();
      done(Object.assign(new Error(`the server's certificate (${presented ?? 'none'}) is not the one trusted`), { code: 'ERR_TLS_CERT_NOT_TRUSTED' }));
    });
    socket.once('error', (error) => done(error));
    return undefined;
  }
}

export interface CouchHttp {
  /** Resolves with a 200 response (streaming) or rejects with a classified error. */
  get(pathAndQuery: string, o: { signal: AbortSignal; idleTimeoutMs: number; database: string }): Promise<IncomingMessage>;
  /** A POST with a JSON body (a `_changes` selector, `_all_docs` keys, `_find`); resolves as `get`. */
  post(pathAndQuery: string, body: unknown, o: { signal: AbortSignal; idleTimeoutMs: number; database: string }): Promise<IncomingMessage>;
  close(): void;
}

export function createCouchHttp(conn: CouchConnection): CouchHttp {
  const base = new URL(conn.url);
  // Credentials may come inside the URL (cht-sync style); they move to a header, out of the URL.
  const username = conn.username ?? (base.username ? decodeURIComponent(base.username) : undefined);
  const password = conn.password ?? (base.password ? decodeURIComponent(base.password) : undefined);
  base.username = '';
  base.password = '';
  const isHttps = base.protocol === 'https:';
  const trusted = conn.trustedFingerprint256?.toUpperCase();
  const agent = isHttps
    ? trusted
      ? new PinnedAgent(trusted, { keepAlive: true, maxSockets: 2 })
      : new https.Agent({ keepAlive: true, maxSockets: 2 })
    : new http.Agent({ keepAlive: true, maxSockets: 2 });
  const basePath = base.pathname.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'identity' };
  if (username !== undefined && username !== '') {
    headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  }
  const baseUrl = base.toString();

  const send = (method: 'GET' | 'POST', pathAndQuery: string, body: string | null, o: { signal: AbortSignal; idleTimeoutMs: number; database: string }): Promise<IncomingMessage> =>
      new Promise<IncomingMessage>((resolve, reject) => {
        if (o.signal.aborted) {
          reject(o.signal.reason);
          return;
        }
        const req = (isHttps ? https : http).request({
          protocol: base.protocol,
          hostname: base.hostname.replace(/^\[|\]$/g, ''),
          port: base.port || (isHttps ? 443 : 80),
          path: `${basePath}${pathAndQuery}`,
          method,
          headers: body === null ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
          agent,
          signal: o.signal,
        });
        // Idle timeout: no byte for this long while connected = "slow", not "down". Once the body
        // streams, the response is destroyed with the timeout error so the reader sees it as such.
        let response: IncomingMessage | null = null;
        req.setTimeout(o.idleTimeoutMs, () => {
          const error = new CouchTimeoutError(o.idleTimeoutMs);
          response?.destroy(error);
          req.destroy(error);
        });
        req.on('error', reject);
        req.on('response', (res) => {
          response = res;
          const status = res.statusCode ?? 0;
          if (status === 200) {
            resolve(res);
            return;
          }
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            if (body.length < 4096) body += c;
          });
          res.on('end', () => reject(couchHttpError(status, body, o.database, baseUrl)));
          res.on('error', () => reject(couchHttpError(status, body, o.database, baseUrl)));
        });
        req.end(body ?? undefined);
      });

  return {
    get: (pathAndQuery, o) => send('GET', pathAndQuery, null, o),
    post: (pathAndQuery, body, o) => send('POST', pathAndQuery, JSON.stringify(body), o),
    close() {
      agent.destroy();
    },
  };
}
