import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineError } from '../../../app/core/engine-error';
import { freePort } from '../../../app/postgres/embedded';
import { checkDatabases, probeCouch } from '../../../app/preflight';
import { adminHeaders, startPouchServer, TEST_ADMIN, type PouchServer } from '../../support/pouchdb-server';

let couch: PouchServer;
let tlsProxy: https.Server;
let tlsUrl: string;
let certDir: string;
const admin = () => ({ url: couch.url, username: TEST_ADMIN.username, password: TEST_ADMIN.password });

async function expectError(
  promise: Promise<unknown>,
  code: string,
  check: (message: string, error: EngineError) => void,
): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof EngineError, `expected EngineError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.doesNotMatch(error.message, new RegExp(TEST_ADMIN.password));
    assert.doesNotMatch(JSON.stringify(error.toWire()), new RegExp(TEST_ADMIN.password));
    check(error.message, error);
    return;
  }
  assert.fail(`expected ${code}`);
}

async function put(pathname: string, body: unknown): Promise<void> {
  const res = await fetch(`${couch.url}${pathname}`, {
    method: 'PUT',
    headers: adminHeaders(),
    body: JSON.stringify(body),
  });
  assert.ok(res.ok, `PUT ${pathname}: ${res.status} ${await res.text()}`);
}

before(async () => {
  couch = await startPouchServer();
  for (const db of ['medic', 'medic-sentinel', 'medic-users-meta', 'medic-user-chw1-meta', 'other'])
    await put(`/${db}`, {});
  for (let i = 0; i < 3; i++) await put(`/medic/doc-${i}`, { type: 'person', i });
  // A TLS front with a certificate made now, for this test: a self-signed CHT install.
  certDir = mkdtempSync(path.join(tmpdir(), 'cht-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path.join(certDir, 'key.pem'),
      '-out',
      path.join(certDir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  tlsProxy = https.createServer(
    { key: readFileSync(path.join(certDir, 'key.pem')), cert: readFileSync(path.join(certDir, 'cert.pem')) },
    (req, res) => {
      const upstream = http.request(`${couch.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    },
  );
  tlsProxy.on('tlsClientError', () => undefined);
  const port = await freePort();
  await new Promise<void>((resolve) => tlsProxy.listen(port, '127.0.0.1', resolve));
  tlsUrl = `https://127.0.0.1:${port}`;
});

after(async () => {
  tlsProxy?.closeAllConnections();
  await new Promise((r) => tlsProxy?.close(r));
  await couch?.stop();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

describe('probeCouch', () => {
  it('lists the databases with counts, the usual CHT set first, per-user meta databases left out', async () => {
    const result = await probeCouch(admin());
    assert.equal(result.vendor, 'PouchDB authors');
    assert.match(result.serverVersion, /^\d+\.\d+/);
    const names = result.databases.map((d) => d.name);
    assert.deepEqual(names.slice(0, 4), ['_users', 'medic', 'medic-sentinel', 'medic-users-meta']);
    assert.ok(names.includes('other'));
    assert.ok(!names.includes('medic-user-chw1-meta'));
    const medic = result.databases.find((d) => d.name === 'medic');
    assert.equal(medic?.docCount, 3);
    assert.equal(medic?.isUsual, true);
    assert.equal(result.databases.find((d) => d.name === 'other')?.isUsual, false);
  });

  it('credentials inside the URL work, and a wrong one there is reported without it', async () => {
    const ok = await probeCouch({ url: couch.adminUrl });
    assert.ok(ok.databases.some((d) => d.name === 'medic'));
    await expectError(probeCouch({ url: couch.url.replace('//', '//admin:url-secret-xyz@') }), 'COUCH_AUTH', (m) => {
      assert.match(m, /rejected the user 'admin'/);
      assert.doesNotMatch(m, /url-secret-xyz/);
    });
  });

  it('a wrong password: COUCH_AUTH naming the user and the settings, never the password', async () => {
    await expectError(
      probeCouch({ url: couch.url, username: 'admin', password: 'not-the-password' }),
      'COUCH_AUTH',
      (m) => {
        assert.match(m, /rejected the user 'admin'/);
        assert.match(m, /COUCHDB_USER and COUCHDB_PASSWORD/);
        assert.doesNotMatch(m, /not-the-password/);
      },
    );
  });

  it('a user who is not a member of a database: COUCH_FORBIDDEN naming the user', async () => {
    // pouchdb-server has no per-database security, so this answers as CouchDB 3 does for a non-member.
    const guarded = http.createServer((req, res) => {
      res.writeHead(req.url === '/medic' ? 403 : 200, { 'content-type': 'application/json' });
      res.end(
        req.url === '/medic'
          ? JSON.stringify({ error: 'forbidden', reason: 'You are not allowed to access this db.' })
          : JSON.stringify({ couchdb: 'Welcome', version: '3.3.3' }),
      );
    });
    const port = await freePort();
    await new Promise<void>((r) => guarded.listen(port, '127.0.0.1', r));
    try {
      await expectError(
        checkDatabases({ url: `http://127.0.0.1:${port}`, username: 'reader', password: 'reader-pass' }, ['medic']),
        'COUCH_FORBIDDEN',
        (m) => {
          assert.match(m, /The user 'reader' may not read the database 'medic'/);
          assert.match(m, /member of the database/);
        },
      );
    } finally {
      await new Promise((r) => guarded.close(r));
    }
  });

  it('connection refused names the host and port and the 5984/443 hint', async () => {
    const port = await freePort();
    await expectError(probeCouch({ url: `http://127.0.0.1:${port}` }), 'COUCH_UNREACHABLE', (m) => {
      assert.match(m, new RegExp(`http://127.0.0.1:${port}`));
      assert.match(m, /connection refused/);
      assert.match(m, /--couch-url, or COUCHDB_HOST/);
    });
    await expectError(probeCouch({ url: 'http://127.0.0.1:1' }), 'COUCH_UNREACHABLE', () => undefined);
  });

  it('an unknown host name is named', async () => {
    await expectError(
      probeCouch({ url: 'https://no-such-host.invalid' }, { timeoutMs: 5000 }),
      'COUCH_UNREACHABLE',
      (m) => assert.match(m, /'no-such-host.invalid' cannot be found/),
    );
  });

  it('a server that accepts but never answers: COUCH_TIMEOUT', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    const port = await freePort();
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', r));
    try {
      await expectError(probeCouch({ url: `http://127.0.0.1:${port}` }, { timeoutMs: 300 }), 'COUCH_TIMEOUT', (m) =>
        assert.match(m, /did not answer within/),
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('https spoken to a plain HTTP port: says to use http://', async () => {
    const url = couch.url.replace('http://', 'https://');
    await expectError(probeCouch({ ...admin(), url }), 'COUCH_PROTOCOL', (m) => {
      assert.match(m, /speaks plain HTTP, not HTTPS/);
      assert.match(m, new RegExp(`http://127.0.0.1:${couch.port}`));
      assert.match(m, /COUCHDB_SECURE=false/);
    });
  });

  it('plain http spoken to a TLS port: says to use https://', async () => {
    await expectError(probeCouch({ ...admin(), url: tlsUrl.replace('https://', 'http://') }), 'COUCH_PROTOCOL', (m) => {
      assert.match(m, /speaks HTTPS, not plain HTTP/);
      assert.match(m, /COUCHDB_SECURE=true/);
    });
  });

  it("nginx's answer to plain HTTP on its HTTPS port is recognised", async () => {
    const nginxLike = http.createServer((_req, res) => {
      res.writeHead(400, { 'content-type': 'text/html' });
      res.end('<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head></html>');
    });
    const port = await freePort();
    await new Promise<void>((r) => nginxLike.listen(port, '127.0.0.1', r));
    try {
      await expectError(probeCouch({ url: `http://127.0.0.1:${port}` }), 'COUCH_PROTOCOL', (m) =>
        assert.match(m, /is an HTTPS port: use https:\/\//),
      );
    } finally {
      await new Promise((r) => nginxLike.close(r));
    }
  });

  it('a self-signed certificate: COUCH_TLS says so, gives the fingerprint, and trusting it works', async () => {
    let fingerprint = '';
    await expectError(probeCouch({ ...admin(), url: tlsUrl }), 'COUCH_TLS', (m, error) => {
      assert.match(m, /self-signed/);
      assert.match(m, /trust this certificate/i);
      fingerprint = String(error.details?.fingerprint256 ?? '');
    });
    const expected = execFileSync(
      'openssl',
      ['x509', '-in', path.join(certDir, 'cert.pem'), '-noout', '-fingerprint', '-sha256'],
      { encoding: 'utf8' },
    )
      .split('=')[1]!
      .trim();
    assert.equal(fingerprint, expected);
    const trusted = await probeCouch({ ...admin(), url: tlsUrl, trustedFingerprint256: fingerprint });
    assert.ok(trusted.databases.some((d) => d.name === 'medic'));
    await expectError(
      probeCouch({ ...admin(), url: tlsUrl, trustedFingerprint256: 'AA:BB' }),
      'COUCH_TLS',
      () => undefined,
    );
  });

  it('a web page instead of CouchDB: COUCH_PROTOCOL', async () => {
    const web = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>hello</title>');
    });
    const port = await freePort();
    await new Promise<void>((r) => web.listen(port, '127.0.0.1', r));
    try {
      await expectError(probeCouch({ url: `http://127.0.0.1:${port}` }), 'COUCH_PROTOCOL', (m) =>
        assert.match(m, /not as CouchDB \(it returned a web page\)/),
      );
      await expectError(checkDatabases({ url: `http://127.0.0.1:${port}` }, ['medic']), 'COUCH_PROTOCOL', (m) =>
        assert.match(m, /answers for 'medic', but not as a CouchDB database \(it returned a web page\)/),
      );
    } finally {
      await new Promise((r) => web.close(r));
    }
  });
});

describe('checkDatabases', () => {
  it('passes when every database exists', async () => {
    await checkDatabases(admin(), ['medic', 'medic-sentinel', '_users']);
  });

  it('names each missing database with its near miss', async () => {
    await expectError(
      checkDatabases(admin(), ['medic', 'medic_sentinel', 'Medic-Users-Meta', 'zzz']),
      'COUCH_DB_MISSING',
      (m, error) => {
        assert.match(m, /'medic_sentinel' \(did you mean 'medic-sentinel'\?\)/);
        assert.match(m, /'zzz'(?! \(did)/);
        assert.match(m, /--databases or COUCHDB_DBS/);
        assert.deepEqual(error.details?.missing, [
          { name: 'medic_sentinel', suggestion: 'medic-sentinel' },
          { name: 'Medic-Users-Meta', suggestion: 'medic-users-meta' },
          { name: 'zzz', suggestion: null },
        ]);
      },
    );
  });
});
