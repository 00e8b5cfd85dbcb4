import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { syncOnce } from '../../../app/engine/sync-wiring';
import type { SyncOptions } from '../../../app/sync/types';
import { createTestDatabase } from '../../support/postgres';
import { memoryCheckpoints, newPool } from './helpers';
import { startRecordedServer, type RecordedServer } from './recorded-server';

describe('a self-signed CouchDB (https) the user chose to trust', () => {
  let dir: string;
  let server: RecordedServer;
  let fingerprint: string;
  let pgDb: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cht-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=cht.local',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    fingerprint = new X509Certificate(cert).fingerprint256;
    server = await startRecordedServer({ tls: { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert } });
    pgDb = await createTestDatabase('sync_tls');
    pool = newPool(pgDb.url);
  });
  after(async () => {
    await pool?.end();
    await pgDb?.drop();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const options = (schema: string, trustedFingerprint256?: string): SyncOptions => ({
    couch: {
      url: server.url,
      username: 'u',
      password: 'p-secret',
      ...(trustedFingerprint256 ? { trustedFingerprint256 } : {}),
    },
    databases: ['medic'],
    pool,
    schema,
    table: 'couchdb',
    batchSize: 1000,
    maxBatchBytes: 1 << 24,
    checkpoints: memoryCheckpoints(),
    logger: silentLogger,
    retryPolicy: { maxAttempts: 1, downBaseMs: 10, slowBaseMs: 10, maxDelayMs: 10 },
  });

  it('refuses an untrusted certificate with COUCH_TLS and sends nothing', async () => {
    server.requests.length = 0;
    const result = await syncOnce(options('tls_a'));
    assert.equal(result.outcome, 'failed');
    assert.equal(result.databases[0]?.error?.code, 'COUCH_TLS');
    assert.equal(server.requests.length, 0);
  });

  it('syncs when the fingerprint is the trusted one', async () => {
    const result = await syncOnce(options('tls_b', fingerprint));
    assert.equal(result.outcome, 'done', JSON.stringify(result.databases[0]?.error));
    assert.equal(result.databases[0]?.docs, 6);
  });

  it('refuses a certificate whose fingerprint differs from the trusted one, before any request', async () => {
    server.requests.length = 0;
    const wrong = fingerprint.replace(/^[0-9A-F]{2}/, (h) => (h === '00' ? '01' : '00'));
    const result = await syncOnce(options('tls_c', wrong));
    assert.equal(result.databases[0]?.error?.code, 'COUCH_TLS');
    assert.equal(server.requests.length, 0, 'no request (and no credentials) reached the server');
  });
});
