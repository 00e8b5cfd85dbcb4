/**
 * Translating what went wrong talking to CouchDB into the engine's one error class.
 * "Down" (refused, reset, cut mid-response) and "slow" (no byte within the timeout while
 * connected) are told apart: COUCH_UNREACHABLE vs COUCH_TIMEOUT. Messages name the
 * database and the fix and never contain credentials (the URL we print has none).
 */
import net from 'node:net';
import tls from 'node:tls';
import { EngineError } from '../core/engine-error';
import { safeUrl } from '../core/redact';

export class CouchTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no data for ${Math.round(ms / 1000)} s`);
    this.name = 'CouchTimeoutError';
  }
}

export class CouchTruncatedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CouchTruncatedError';
  }
}

/** A 200 response that is not JSON (a web page from a captive portal, a login proxy, a wrong URL). */
export class CouchNotJsonError extends Error {
  constructor(
    readonly contentType: string,
    readonly sample: string,
  ) {
    super(`the server sent ${describeNonJson(contentType, sample)} instead of JSON`);
    this.name = 'CouchNotJsonError';
  }
}

export function describeNonJson(contentType: string, sample: string): string {
  const trimmed = sample.trimStart();
  if (/html/i.test(contentType) || trimmed.startsWith('<')) {
    const title = /<title[^>]*>([^<]{1,80})/i.exec(trimmed)?.[1]?.trim();
    return `a web page${title ? ` ("${title}")` : ''}`;
  }
  return contentType ? `content of type ${contentType}` : 'content that is not JSON';
}

/** A server that answers the same page for every `since`: it ignores the position we send. */
export class CouchIgnoresSinceError extends Error {
  constructor(readonly seq: string) {
    super(`the server answered the same page again for since=${seq.length > 40 ? `${seq.slice(0, 40)}…` : seq}`);
    this.name = 'CouchIgnoresSinceError';
  }
}

/** `Retry-After` (seconds or an HTTP date) in ms, or null. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

export function couchHttpError(
  status: number,
  body: string,
  database: string,
  baseUrl: string,
  retryAfter: number | null = null,
): EngineError {
  const where = `CouchDB database "${database}" at ${safeUrl(baseUrl)}`;
  let reason = '';
  try {
    const parsed = JSON.parse(body) as { error?: unknown; reason?: unknown };
    reason = [parsed.error, parsed.reason].filter((x) => typeof x === 'string' && x).join(': ');
  } catch {
    reason = body.slice(0, 200);
  }
  const said = reason ? ` (the server said: ${reason})` : '';
  const details: Record<string, unknown> = { database, status };
  if (retryAfter !== null) details.retryAfterMs = retryAfter;
  if (status === 401) {
    return new EngineError(
      'COUCH_AUTH',
      `${where} rejected the username or password (HTTP 401)${said}. Fix: check COUCHDB_USER / COUCHDB_PASSWORD (or the CouchDB login in Settings).`,
      { details },
    );
  }
  if (status === 403) {
    return new EngineError(
      'COUCH_FORBIDDEN',
      `${where} refused access (HTTP 403)${said}. Fix: use a CouchDB admin, or a user that is a member of this database.`,
      { details },
    );
  }
  if (status === 404) {
    return new EngineError(
      'COUCH_DB_MISSING',
      `${where} does not exist (HTTP 404)${said}. Fix: correct the name in COUCHDB_DBS (CHT uses medic, medic-sentinel, medic-users-meta, _users).`,
      { details },
    );
  }
  if (status >= 500 || status === 429) {
    const when =
      retryAfter !== null
        ? ` It asked to be retried in ${Math.ceil(retryAfter / 1000)} s, and will be.`
        : ' It will be retried;';
    const busy = status === 503 || status === 429 ? 'is busy or down for maintenance' : 'failed with a server error';
    return new EngineError(
      'COUCH_SERVER',
      `${where} ${busy} (HTTP ${status})${said}.${when} If it persists, check the CouchDB server's logs.`,
      { retryable: true, details },
    );
  }
  if (status === 400) {
    return new EngineError(
      'COUCH_PROTOCOL',
      `${where} rejected the changes request (HTTP 400)${said}. If the database was restored, recreated or moved to another cluster, the saved position no longer applies. Fix: delete the couchdb_progress row whose source ends in "/${database}" to copy it again from the start.`,
      { details },
    );
  }
  return new EngineError(
    'COUCH_PROTOCOL',
    `${where} answered HTTP ${status}${said}, which a CouchDB _changes request should not get. Fix: check that the URL points at CouchDB itself, not a web page or proxy.`,
    { details },
  );
}

export function classifyCouchError(error: unknown, database: string, baseUrl: string): EngineError {
  if (error instanceof EngineError) return error;
  const where = `CouchDB database "${database}" at ${safeUrl(baseUrl)}`;
  if (error instanceof CouchTimeoutError) {
    return new EngineError(
      'COUCH_TIMEOUT',
      `${where} is reachable but sent nothing for ${Math.round(error.ms / 1000)} s. It will be retried; if it persists, the server is overloaded or a proxy buffers the feed.`,
      { retryable: true, details: { database }, cause: error },
    );
  }
  if (error instanceof CouchNotJsonError) {
    return new EngineError(
      'COUCH_PROTOCOL',
      `${where} answered the changes request with ${describeNonJson(error.contentType, error.sample)} instead of CouchDB's JSON. Fix: check that the URL points at CouchDB or the CHT instance itself, not a login page, captive portal or web proxy; it will be retried.`,
      { retryable: true, details: { database, contentType: error.contentType }, cause: error },
    );
  }
  if (error instanceof CouchIgnoresSinceError) {
    return new EngineError(
      'COUCH_PROTOCOL',
      `${where} ${error.message}: it ignores the position it is asked to resume from, so the sync would copy the same documents forever. Stopped. Fix: check that the URL points at CouchDB itself (a proxy or cache in front of it may drop the query string).`,
      { details: { database }, cause: error },
    );
  }
  if (error instanceof CouchTruncatedError || error instanceof SyntaxError) {
    return new EngineError(
      'COUCH_UNREACHABLE',
      `${where} closed the connection in the middle of a response (${error.message}). It will be retried from the last saved position.`,
      { retryable: true, details: { database }, cause: error },
    );
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && code.startsWith('Z_')) {
    // zlib: a compressed body that ended early (the connection was cut) or arrived damaged.
    return new EngineError(
      'COUCH_UNREACHABLE',
      `${where} closed the connection in the middle of a compressed response (${message}). It will be retried from the last saved position.`,
      { retryable: true, details: { database, code }, cause: error },
    );
  }
  if (
    typeof code === 'string' &&
    (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') || code === 'EPROTO')
  ) {
    return new EngineError(
      'COUCH_TLS',
      `${where}: the secure (TLS) connection failed (${code}). Fix: use http:// for a plain port (5984) or https:// for 443, and make sure the certificate is valid.`,
      { details: { database, code }, cause: error },
    );
  }
  if (
    (typeof code === 'string' && DOWN_CODES.has(code)) ||
    message === 'aborted' ||
    /socket hang up|ECONNRESET|premature/i.test(message)
  ) {
    return new EngineError(
      'COUCH_UNREACHABLE',
      `${where} cannot be reached (${typeof code === 'string' ? code : message}). Fix: check the URL, the network and that CouchDB is running; it will be retried.`,
      { retryable: true, details: { database, code }, cause: error },
    );
  }
  if (code === 'ETIMEDOUT') {
    return new EngineError('COUCH_TIMEOUT', `${where} did not answer in time (ETIMEDOUT). It will be retried.`, {
      retryable: true,
      details: { database },
      cause: error,
    });
  }
  return new EngineError('COUCH_PROTOCOL', `${where}: unexpected failure reading the changes feed (${message}).`, {
    retryable: true,
    details: { database },
    cause: error,
  });
}

const USUAL_PORT_HINT =
  'CHT behind its nginx answers on https port 443 (https://host); CouchDB itself listens on port 5984 (http://host:5984).';

function describeServer(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.protocol}//${url.hostname}:${port}`;
}

/**
 * A request that got no HTTP answer, as the user needs to hear it: refused / unknown host /
 * timeout (with the 5984-vs-443 hint), TLS spoken to a plain port and plain HTTP spoken to a TLS
 * port, certificate problems (self-signed: the SHA-256 fingerprint in `details.fingerprint256`,
 * which passed back as `trustedFingerprint256` pins that certificate). Server-level messages
 * (preflight, setup); the sync's per-database messages are classifyCouchError's.
 */
export async function classifyConnectionError(
  error: unknown,
  url: URL,
  timeoutMs: number,
  trusted: string | undefined,
): Promise<EngineError> {
  if (error instanceof EngineError) return error;
  const code =
    error instanceof CouchTimeoutError ? 'PROBE_TIMEOUT' : String((error as { code?: unknown } | null)?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  const where = describeServer(url);
  const isHttps = url.protocol === 'https:';
  const port = Number(url.port || (isHttps ? 443 : 80));
  const portHint = port === 5984 || port === 443 || port === 80 ? ` ${USUAL_PORT_HINT}` : '';
  const setting = 'Check the CouchDB URL (--couch-url, or COUCHDB_HOST / COUCHDB_PORT / COUCHDB_SECURE)';
  const details = { host: url.hostname, port, code };

  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new EngineError(
      'COUCH_UNREACHABLE',
      `The CouchDB host name '${url.hostname}' cannot be found (${code}). ${setting}: is the name spelled right, and is this computer online?`,
      { retryable: code === 'EAI_AGAIN', details, cause: error },
    );
  }
  if (code === 'ECONNREFUSED') {
    return new EngineError(
      'COUCH_UNREACHABLE',
      `Nothing accepts connections at ${where} (connection refused). ${setting}: is the port right and is the server running?${portHint}`,
      { retryable: true, details, cause: error },
    );
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new EngineError(
      'COUCH_UNREACHABLE',
      `The network cannot reach ${where} (${code}). Check this computer's connection, VPN or firewall, then the CouchDB URL.`,
      { retryable: true, details, cause: error },
    );
  }
  if (code === 'PROBE_TIMEOUT' || code === 'ETIMEDOUT') {
    return new EngineError(
      'COUCH_TIMEOUT',
      `${where} did not answer within ${Math.round(timeoutMs / 1000)} s. The server may be slow or a firewall may drop the connection. ${setting}.${portHint}`,
      { retryable: true, details, cause: error },
    );
  }
  // TLS spoken to a plain-HTTP port: OpenSSL reads the HTTP reply as a broken TLS record.
  if (
    isHttps &&
    (code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
      /wrong version number|packet length too long|unknown protocol/i.test(message) ||
      (code === 'EPROTO' && !/alert/i.test(message)))
  ) {
    return new EngineError(
      'COUCH_PROTOCOL',
      `${where} speaks plain HTTP, not HTTPS. Use http://${url.host} (COUCHDB_SECURE=false), or the HTTPS port of the server.${portHint}`,
      { details: { ...details, expected: 'http' }, cause: error },
    );
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
    const fix =
      code === 'CERT_FINGERPRINT_MISMATCH'
        ? "If the server's certificate was renewed, trust the new one; otherwise do not connect: another server may be answering."
        : isSelfSigned || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
          ? fingerprint
            ? `If this is your own server, trust this certificate (SHA-256 fingerprint ${fingerprint}; compare it with the one your server administrator gives you): in the app choose "Trust this certificate"; on the command line pass --trust-certificate ${fingerprint}.`
            : `If this is your own server, save its certificate (openssl s_client -connect ${url.hostname}:${port} </dev/null | openssl x509 > cht-server.pem) and start with NODE_EXTRA_CA_CERTS=cht-server.pem.`
          : 'Fix the certificate on the server, or check the URL names the server its certificate was issued for.';
    return new EngineError('COUCH_TLS', `The secure connection to ${where} failed: ${why}. ${fix}`, {
      details: {
        ...details,
        isSelfSigned,
        fingerprint256: fingerprint,
        trustedFingerprintMismatch: trusted !== undefined,
      },
      cause: error,
    });
  }
  if (isHttps && (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'EPROTO')) {
    return new EngineError(
      'COUCH_TLS',
      `The secure (TLS) connection to ${where} failed (${code}: ${message}). Check the URL uses the server's HTTPS port.${portHint}`,
      { details, cause: error },
    );
  }
  // Plain HTTP spoken to a TLS port: the server drops us, or answers with TLS bytes we cannot parse.
  if (!isHttps && (code === 'ECONNRESET' || code.startsWith('HPE_') || /socket hang up/i.test(message))) {
    if (await speaksTls(url)) {
      return new EngineError(
        'COUCH_PROTOCOL',
        `${where} speaks HTTPS, not plain HTTP. Use https://${url.host} (COUCHDB_SECURE=true).${portHint}`,
        { details: { ...details, expected: 'https' }, cause: error },
      );
    }
  }
  if (code === 'ECONNRESET' || /socket hang up/i.test(message)) {
    return new EngineError(
      'COUCH_UNREACHABLE',
      `${where} closed the connection before answering. ${setting}; a proxy or firewall may be in the way.${portHint}`,
      { retryable: true, details, cause: error },
    );
  }
  return new EngineError('COUCH_UNREACHABLE', `Could not talk to ${where} (${code || message}). ${setting}.`, {
    retryable: true,
    details,
    cause: error,
  });
}

function tlsTarget(url: URL): tls.ConnectionOptions {
  return {
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    ...(net.isIP(url.hostname) ? {} : { servername: url.hostname }),
    rejectUnauthorized: false,
    timeout: 5000,
  };
}

function isCertificateError(code: string): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/.test(code);
}

function peerCertificate(url: URL): Promise<tls.PeerCertificate | null> {
  return new Promise((resolve) => {
    const socket = tls.connect(tlsTarget(url), () => {
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
    const socket = tls.connect(tlsTarget(url), () => {
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
