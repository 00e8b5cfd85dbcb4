import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { EngineError } from '../../../app/core/engine-error';
import {
  freePort,
  removeEmbeddedCluster,
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
} from '../../../app/postgres/embedded';
import { probePostgres } from '../../../app/preflight';
import { createTestDatabase, uniqueName } from '../../support/postgres';

async function expectError(
  promise: Promise<unknown>,
  code: string,
  check: (message: string) => void,
  secret?: string,
): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof EngineError, `expected EngineError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (secret) assert.doesNotMatch(JSON.stringify({ m: error.message, w: error.toWire() }), new RegExp(secret));
    check(error.message);
    return;
  }
  assert.fail(`expected ${code}`);
}

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const role = uniqueName('limited').toLowerCase();

before(async () => {
  db = await createTestDatabase('preflight');
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`create role ${role} login password 'limited-pass'`);
  await admin.end();
});

after(async () => {
  await db?.drop();
  const admin = new pg.Client({ connectionString: db.url.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  await admin.query(`drop role if exists ${role}`);
  await admin.end();
});

describe('probePostgres on the test server', () => {
  it('reports the server version and that the schema can be created, leaving nothing behind', async () => {
    const result = await probePostgres(db.url, { schema: 'probe_schema' });
    assert.match(result.serverVersion, /^\d+/);
    assert.equal(result.canCreateSchema, true);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const left = await client.query(`select 1 from pg_namespace where nspname = 'probe_schema'`);
    await client.end();
    assert.equal(left.rowCount, 0, 'the probe rolled back');
  });

  it('connection refused names the host and port', async () => {
    const port = await freePort();
    await expectError(probePostgres(`postgres://postgres@127.0.0.1:${port}/x`), 'PG_UNREACHABLE', (m) => {
      assert.match(m, new RegExp(`127.0.0.1:${port} \\(connection refused\\)`));
      assert.match(m, /POSTGRES_HOST/);
    });
  });

  it('a missing database: says to create it or fix POSTGRES_DB', async () => {
    const url = new URL(db.url);
    url.pathname = '/no_such_db_here';
    await expectError(probePostgres(url.toString()), 'CONFIG_INVALID', (m) => {
      assert.match(m, /database 'no_such_db_here' does not exist/);
      assert.match(m, /POSTGRES_DB/);
    });
  });

  it('a user that may not create the schema: PG_PERMISSION with the GRANT to run', async () => {
    const url = new URL(db.url);
    url.username = role;
    url.password = 'limited-pass';
    const report = await probePostgres(url.toString(), { schema: 'v1' });
    assert.equal(report.canCreateSchema, false);
    await expectError(
      probePostgres(url.toString(), { schema: 'v1', requireWrite: true }),
      'PG_PERMISSION',
      (m) => {
        assert.match(m, new RegExp(`user '${role}' may not create the schema 'v1'`));
        assert.match(m, /GRANT CREATE ON DATABASE/);
      },
      'limited-pass',
    );
  });

  it('a role that does not exist', async () => {
    const url = new URL(db.url);
    url.username = 'nobody_at_all';
    url.password = '';
    await expectError(probePostgres(url.toString()), 'PG_AUTH', (m) => assert.match(m, /'nobody_at_all'/));
  });
});

describe('probePostgres against a password-protected (scram) server', () => {
  let embedded: EmbeddedPostgresHandle;
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'cht-preflight-pg-'));
    embedded = await startEmbeddedPostgres(dataDir);
  });
  after(async () => {
    await embedded?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (embedded) removeEmbeddedCluster(embedded.clusterDir);
  });

  it('a wrong password: PG_AUTH naming the user and POSTGRES_PASSWORD, never the password', async () => {
    const url = new URL(embedded.url);
    url.password = 'wrong-password-123';
    await expectError(
      probePostgres(url.toString()),
      'PG_AUTH',
      (m) => {
        assert.match(m, /rejected the password for the user 'postgres'/);
        assert.match(m, /POSTGRES_PASSWORD/);
      },
      'wrong-password-123',
    );
  });

  it('no password at all: says scram needs one', async () => {
    const url = new URL(embedded.url);
    url.password = '';
    await expectError(probePostgres(url.toString()), 'PG_AUTH', (m) => {
      assert.match(m, /scram-sha-256/);
      assert.match(m, /Set POSTGRES_PASSWORD/);
    });
  });

  it('the right password works', async () => {
    const result = await probePostgres(embedded.url);
    assert.equal(result.canCreateSchema, true);
  });
});
