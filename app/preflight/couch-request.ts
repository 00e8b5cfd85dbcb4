import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { EngineError } from '../core/engine-error';
import { registerSecret } from '../core/redact';

export interface CouchTarget {
  url: string;
  username?: string;
  password?: string;
  /**
   * Accept this server's certificate even though no CA vouches for it (a
   * self-signed CHT install): the SHA-256 fingerprint the user chose to trust,
   * as reported in a COUCH_TLS error's details.fingerprint256.
   */
  trustedFingerprint256?: string;
}

export interface ProbeOptions {
  timeoutMs?: number;
}

export interface CouchResponse {
  status: number;
  body: string;
  json: unknown;
}

const USUAL_PORT_HINT = 'CHT behind its nginx answers on https port 443 (https://host); CouchDB itself listens on port 5984 (http://host:5984).';

/**
 * Credentials typed into the URL (`https://user:pass@host`) move to their own fields, so
 * messages can name the user and the URL we print never carries them.
 */
export function normaliseTarget(c: CouchTarget): CouchTarget {
  let url: URL;
  try {
    url = new URL(c.url);
  } catch {
    throw new EngineError('CONFIG_INVALID', 'The CouchDB URL is not a valid URL: it should look like https://cht.example.org.');
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

/** Where we are talking to, for messages: scheme, host and port, never credentials. */
export function describeTarget(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.protocol}//${url.hostname}:${port}`;
}

/**
 * One GET against CouchDB with basic auth. Network-level failures become an
 * EngineError that names the setting and the fix; HTTP statuses are returned
 * for the caller to interpret (401 vs 404 mean different things per endpoint).
 */
export async function couchGet(target: CouchTarget, pathname: string, options: ProbeOptions = {}): Promise<CouchResponse> {
  const base = new URL(target.url);
  const url = new URL(base.pathname.replace(/\/$/, '') + pathname, base);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const headers: Record<string, string> = { accept: 'application/json', 'accept-encoding': 'identity' };
  if (target.username !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${target.username}:${target.password ?? ''}`).toString('base64')}`;
  }
  const isHttps = url.protocol === 'https:';
  const trusted = target.trustedFingerprint256?.toUpperCase();
  try {
    return await new Promise<CouchResponse>((resolve, reject) => {
      const request = (isHttps ? https : http).request(
        url,
        {
          method: 'GET',
          headers,
          timeout: timeoutMs,
          // Pinning: open the TLS socket ourselves and hand it over only when the certificate's
          // fingerprint is the trusted one, so no request byte (credentials) reaches another server.
          // No agent then: an agent would open its own, verified, connection.
          ...(isHttps && trusted ? { createConnection: pinnedConnection(url, trusted, timeoutMs) } : { agent: false }),
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= 4 * 1024 * 1024) chunks.push(chunk);
          });
          response.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            let json: unknown = null;
            try {
              json = JSON.parse(body);
            } catch {
              json = null;
            }
            resolve({ status: response.statusCode ?? 0, body, json });
          });
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'PROBE_TIMEOUT' })));
      request.on('error', reject);
      request.end();
    });
  } catch (error) {
    throw await classifyNetworkError(error, url, timeoutMs, trusted);
  }
}

async function classifyNetworkError(error: unknown, url: URL, timeoutMs: number, trusted: string | undefined): Promise<EngineError> {
  const code = String((error as { code?: unknown }).code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  const where = describeTarget(url);
  const isHttps = url.protocol === 'https:';
  const port = Number(url.port || (isHttps ? 443 : 80));
  const portHint = port === 5984 || port === 443 || port === 80 ? ` ${USUAL_PORT_HINT}` : '';
  const setting = 'Check the CouchDB URL (--couch-url, or COUCHDB_HOST / COUCHDB_PORT / COUCHDB_SECURE)';
  const details = { host: url.hostname, port, code };

  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new EngineError('COUCH_UNREACHABLE', `The CouchDB host name '${url.hostname}' cannot be found (${code}). ${setting}: is the name spelled right, and is this computer online?`, { retryable: code === 'EAI_AGAIN', details, cause: error });
  }
  if (code === 'ECONNREFUSED') {
    return new EngineError('COUCH_UNREACHABLE', `Nothing accepts connections at ${where} (connection refused). ${setting}: is the port right and is the server running?${portHint}`, { retryable: true, details, cause: error });
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new EngineError('COUCH_UNREACHABLE', `The network cannot reach ${where} (${code}). Check this computer's connection, VPN or firewall, then the CouchDB URL.`, { retryable: true, details, cause: error });
  }
  if (code === 'PROBE_TIMEOUT' || code === 'ETIMEDOUT') {
    return new EngineError('COUCH_TIMEOUT', `${where} did not answer within ${Math.round(timeoutMs / 1000)} s. The server may be slow or a firewall may drop the connection. ${setting}.${portHint}`, { retryable: true, details, cause: error });
  }
  // TLS spoken to a plain-HTTP port: OpenSSL reads the HTTP reply as a broken TLS record.
  if (isHttps && (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|unknown protocol/i.test(message) || (code === 'EPROTO' && !/alert/i.test(message)))) {
    return new EngineError('COUCH_PROTOCOL', `${where} speaks plain HTTP, not HTTPS. Use http://${url.host} (COUCHDB_SECURE=false), or the HTTPS port of the server.${portHint}`, { details: { ...details, expected: 'http' }, cause: error });
  }
  if (isHttps && isCertificateError(code)) {
    const cert = await peerCertificate(url).catch(() => null);
    const isSelfSigned = code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN';
    const fingerprint = cert?.fingerprint256 ?? null;
    const why =
      code === 'CERT_FINGERPRINT_MISMATCH'
        ? `its certificate is not the one you chose to trust${fingerprint ? ` (it now presents ${fingerprint})` : ''}`
        : code === 'CERT_HAS_EXPIRED'
        ? `its certificate expired${cert?.valid_to ? ` on ${cert.valid_to}` : ''}`
        : code === 'ERR_TLS_CERT_ALTNAME_INVALID'
          ? `its certificate is for another name${cert?.subjectaltname ? ` (${cert.subjectaltname})` : ''}, not '${url.hostname}'`
          : isSelfSigned
            ? 'its certificate is self-signed (no certificate authority vouches for it)'
            : `its certificate cannot be verified (${code})`;
    const fix = code === 'CERT_FINGERPRINT_MISMATCH'
      ? 'If the server\'s certificate was renewed, trust the new one; otherwise do not connect: another server may be answering.'
      : isSelfSigned || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
      ? fingerprint
        ? `If this is your own server, trust this certificate (SHA-256 fingerprint ${fingerprint}; compare it with the one your server administrator gives you): in the app choose "Trust this certificate"; on the command line pass --trust-certificate ${fingerprint}.`
        : `If this is your own server, save its certificate (openssl s_client -connect ${url.hostname}:${port} </dev/null | openssl x509 > cht-server.pem) and start with NODE_EXTRA_CA_CERTS=cht-server.pem.`
      : 'Fix the certificate on the server, or check the URL names the server its certificate was issued for.';
    return new EngineError('COUCH_TLS', `The secure connection to ${where} failed: ${why}. ${fix}`, {
      details: { ...details, isSelfSigned, fingerprint256: fingerprint, trustedFingerprintMismatch: trusted !== undefined },
      cause: error,
    });
  }
  if (isHttps && (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'EPROTO')) {
    return new EngineError('COUCH_TLS', `The secure (TLS) connection to ${where} failed (${code}: ${message}). Check the URL uses the server's HTTPS port.${portHint}`, { details, cause: error });
  }
  // Plain HTTP spoken to a TLS port: the server drops us, or answers with TLS bytes we cannot parse.
  if (!isHttps && (code === 'ECONNRESET' || code.startsWith('HPE_') || /socket hang up/i.test(message))) {
    if (await speaksTls(url)) {
      return new EngineError('COUCH_PROTOCOL', `${where} speaks HTTPS, not plain HTTP. Use https://${url.host} (COUCHDB_SECURE=true).${portHint}`, { details: { ...details, expected: 'https' }, cause: error });
    }
  }
  if (code === 'ECONNRESET' || /socket hang up/i.test(message)) {
    return new EngineError('COUCH_UNREACHABLE', `${where} closed the connection before answering. ${setting}; a proxy or firewall may be in the way.${portHint}`, { retryable: true, details, cause: error });
  }
  return new EngineError('COUCH_UNREACHABLE', `Could not talk to ${where} (${code || message}). ${setting}.`, { retryable: true, details, cause: error });
}

function pinnedConnection(url: URL, trusted: string, timeoutMs: number) {
  return (_options: unknown, done: (error: Error | null, socket: Duplex) => void): undefined => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port || 443), ...serverName(url), rejectUnauthorized: false, timeout: timeoutMs });
    socket.once('secureConnect', () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256?.toUpperCase();
      if (fingerprint === trusted) {
        socket.setTimeout(0);
        done(null, socket);
      } else {
        socket.destroy();
        done(Object.assign(new Error('the server certificate is not the trusted one'), { code: 'CERT_FINGERPRINT_MISMATCH' }), socket);
      }
    });
    socket.once('error', (error) => done(error, socket));
    socket.once('timeout', () => {
      socket.destroy();
      done(Object.assign(new Error('timeout'), { code: 'PROBE_TIMEOUT' }), socket);
    });
    return undefined;
  };
}

/** SNI only for names: sending an IP address as server name is not allowed (RFC 6066). */
function serverName(url: URL): { servername?: string } {
  return net.isIP(url.hostname) ? {} : { servername: url.hostname };
}

function isCertificateError(code: string): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/.test(code);
}

function peerCertificate(url: URL): Promise<tls.PeerCertificate | null> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port || 443), ...serverName(url), rejectUnauthorized: false, timeout: 5000 }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert && Object.keys(cert).length ? cert : null);
    });
    socket.on('error', () => resolve(null));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(null);
    });
  });
}

/** Whether a TLS handshake succeeds on this host and port (certificate not checked). */
function speaksTls(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port || 80), ...serverName(url), rejectUnauthorized: false, timeout: 5000 }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
