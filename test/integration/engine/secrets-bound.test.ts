import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../app/core/logger';
import { createEngine } from '../../../app/engine/create-engine';
import { createInProcessClient } from '../../../app/host/in-process-client';
import { adminHeaders } from '../../support/pouchdb-server';
import { testPostgresUrl, uniqueName } from '../../support/postgres';

const couchAdminUrl = process.env.CHT_SYNC_TEST_COUCH_ADMIN_URL ?? '';
const couchUrl = process.env.CHT_SYNC_TEST_COUCH_URL ?? '';
const PG_SECRET = 'pg-S3cret-Zebra-11';

/** An HTTP server that records what it is sent and answers like a CouchDB that wants a login. */
async function recordingCouch(): Promise<{ url: string; authorizations: string[]; close(): Promise<void> }> {
  const authorizations: string[] = [];
  const server = http.createServer((req, res) => {
    authorizations.push(req.headers.authorization ?? '');
    res.writeHead(req.url === '/' ? 200 : 401, { 'content-type': 'application/json' });
    res.end(
      req.url === '/'
        ? '{"couchdb":"Welcome","version":"3.3.3"}'
        : '{"error":"unauthorized","reason":"Name or password is incorrect."}',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    authorizations,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A "PostgreSQL" that asks every client for its password in clear text, and records what it gets. */
async function cleartextPostgres(): Promise<{ port: number; received: string[]; close(): Promise<void> }> {
  const received: string[] = [];
  const server = net.createServer((socket) => {
    let isStarted = false;
    socket.on('data', (data: Buffer) => {
      if (!isStarted) {
        isStarted = true;
        socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // AuthenticationCleartextPassword
        return;
      }
      if (data[0] === 0x70) received.push(data.subarray(5).toString('utf8').replace(/\0$/, ''));
      socket.destroy();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe(
  'issue 11 #1: saved passwords are bound to the server they were saved for',
  { skip: !couchAdminUrl && 'needs test services' },
  () => {
    it('a changed CouchDB URL or PostgreSQL port never receives the saved password; the saved server still does', async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-bound-'));
      const db = uniqueName('medic').toLowerCase();
      assert.ok((await fetch(`${couchUrl}/${db}`, { method: 'PUT', headers: adminHeaders() })).ok);
      const admin = new URL(couchAdminUrl);
      const username = decodeURIComponent(admin.username);
      const password = decodeURIComponent(admin.password);
      const recorder = await recordingCouch();
      const fakePg = await cleartextPostgres();
      const engine = await createEngine({
        dataDir,
        config: {
          dataDir,
          couch: null,
          postgres: { kind: 'embedded' },
          schema: 'v1',
          table: 'couchdb',
          batchSize: 1000,
          maxBatchBytes: 16 * 1024 * 1024,
          pipeline: { kind: 'bundled' },
          transform: { threads: 1, batchSize: null, selector: null, intervalSeconds: 5 },
        },
        logger: silentLogger,
        host: 'in-process',
      });
      const client = createInProcessClient(engine);
      try {
        const pg = new URL(testPostgresUrl());
        const external = {
          kind: 'external' as const,
          host: pg.hostname,
          port: Number(pg.port || 5432),
          database: pg.pathname.slice(1) || 'postgres',
          username: decodeURIComponent(pg.username),
          ssl: false,
        };
        await client.invoke('setup.complete', {
          couch: { url: couchUrl, username, password, databases: [db] },
          postgres: { ...external, password: PG_SECRET },
          schedule: { kind: 'manual' },
        });

        // The saved server: "Test connection" without typing the password again works.
        const same = await client.invoke('setup.testCouch', { url: couchUrl, username });
        assert.ok(same.serverVersion.length > 0);

        // Another port on the same host, asked to test: no password goes there.
        await client.invoke('setup.testCouch', { url: recorder.url, username }).catch(() => undefined);
        // Only the URL changed in the settings, then a sync: the old credentials stay home.
        await client.invoke('settings.update', { couch: { url: recorder.url } });
        assert.equal(
          (await client.invoke('settings.get', {})).couch.hasPassword,
          false,
          'a new server has no password until one is typed',
        );
        await client.invoke('sync.runNow', {}).catch(() => undefined);
        const basic = Buffer.from(`${username}:${password}`).toString('base64');
        assert.ok(recorder.authorizations.length > 0, 'the recorder was contacted');
        for (const header of recorder.authorizations) {
          assert.ok(
            !header.includes(basic) &&
              !Buffer.from(header.replace(/^Basic /, ''), 'base64')
                .toString()
                .includes(password),
            `the saved password reached another server: ${header}`,
          );
        }

        // PostgreSQL on another port that asks for a cleartext password: the saved one is not sent.
        await client
          .invoke('setup.testPostgres', { postgres: { ...external, port: fakePg.port } })
          .catch(() => undefined);
        assert.ok(!fakePg.received.includes(PG_SECRET), 'the saved PostgreSQL password reached another server');
        // Typed again for that server, it is sent (the user chose to).
        await client
          .invoke('setup.testPostgres', {
            postgres: { ...external, port: fakePg.port, password: 'typed-for-this-one' },
          })
          .catch(() => undefined);
        assert.equal(fakePg.received.at(-1), 'typed-for-this-one');

        // Back to the saved server's address: its password is bound to it and works again.
        await client.invoke('settings.update', { couch: { url: couchUrl } });
        assert.equal((await client.invoke('settings.get', {})).couch.hasPassword, true);
      } finally {
        await engine.close();
        await recorder.close();
        await fakePg.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  },
);
