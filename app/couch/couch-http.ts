/**
 * A minimal HTTP(S) client for CouchDB's feed endpoints, on node:http with one keep-alive
 * agent per database stream (so a stream reuses its connection). We do not use fetch:
 * it asks for gzip, and a gzip'd continuous feed stalls on pouchdb-server; here every
 * request sends `Accept-Encoding: identity`. Credentials travel in an Authorization header,
 * never in a URL that could be logged.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { CouchTimeoutError, couchHttpError } from './couch-errors';

export interface CouchConnection {
  url: string;
  username?: string;
  password?: string;
}

export interface CouchHttp {
  /** Resolves with a 200 response (streaming) or rejects with a classified error. */
  get(pathAndQuery: string, o: { signal: AbortSignal; idleTimeoutMs: number; database: string }): Promise<IncomingMessage>;
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
  const agent = isHttps ? new https.Agent({ keepAlive: true, maxSockets: 2 }) : new http.Agent({ keepAlive: true, maxSockets: 2 });
  const basePath = base.pathname.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'identity' };
  if (username !== undefined && username !== '') {
    headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  }
  const baseUrl = base.toString();

  return {
    get(pathAndQuery, o) {
      return new Promise<IncomingMessage>((resolve, reject) => {
        if (o.signal.aborted) {
          reject(o.signal.reason);
          return;
        }
        const req = (isHttps ? https : http).request({
          protocol: base.protocol,
          hostname: base.hostname.replace(/^\[|\]$/g, ''),
          port: base.port || (isHttps ? 443 : 80),
          path: `${basePath}${pathAndQuery}`,
          method: 'GET',
          headers,
          agent,
          signal: o.signal,
        });
        // Idle timeout: no byte for this long while connected = "slow", not "down".
        req.setTimeout(o.idleTimeoutMs, () => req.destroy(new CouchTimeoutError(o.idleTimeoutMs)));
        req.on('error', reject);
        req.on('response', (res) => {
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
        req.end();
      });
    },
    close() {
      agent.destroy();
    },
  };
}
