import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  defaultDataDir,
  parseEnvFile,
  readEnvFile,
  resolveConfig,
  resolveDataDir,
  type ResolveConfigInput,
} from '../../../app/config';
import { EngineError } from '../../../app/core/engine-error';
import { defaultSavedSettings, memorySecretStore, type SavedSettings } from '../../../app/store';

const ENV_FILE = path.resolve('test/unit/config/fixtures/cht-sync.env');

function resolve(over: Partial<ResolveConfigInput>) {
  return resolveConfig({ flags: {}, env: {}, saved: null, dataDir: '/data', ...over });
}

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EngineError, `expected an EngineError, got ${String(error)}`);
    assert.equal(error.code, 'CONFIG_INVALID');
    return error.message;
  }
  assert.fail('expected a configuration error');
}

function saved(over: Partial<SavedSettings> = {}): SavedSettings {
  return { ...defaultSavedSettings(), ...over };
}

describe('resolveConfig: defaults', () => {
  it('with nothing configured: no CouchDB, embedded PostgreSQL, cht-sync defaults', () => {
    const c = resolve({});
    assert.equal(c.couch, null);
    assert.deepEqual(c.postgres, { kind: 'embedded' });
    assert.equal(c.schema, 'v1');
    assert.equal(c.table, 'couchdb');
    assert.equal(c.batchSize, 1000);
    assert.equal(c.maxBatchBytes, 16 * 1024 * 1024);
    assert.deepEqual(c.pipeline, { kind: 'bundled' });
    assert.deepEqual(c.transform, { threads: 1, batchSize: null, selector: null, intervalSeconds: 5 });
    assert.equal(c.dataDir, '/data');
  });
});

describe('resolveConfig: a cht-sync env file works unchanged', () => {
  it('parses the env file (quotes, trailing comments, commented lines)', () => {
    const env = readEnvFile(ENV_FILE);
    assert.equal(env.POSTGRES_HOST, 'postgres');
    assert.equal(env.POSTGRES_TABLE, 'couchdb');
    assert.equal(env.COUCHDB_DBS, 'medic, medic-sentinel');
    assert.equal(env.CHT_PIPELINE_BRANCH_URL, 'https://github.com/medic/cht-pipeline.git#main');
    assert.equal(env.COMPOSE_PROJECT_NAME, undefined);
    assert.deepEqual(parseEnvFile('export A=\'x y\' \nB=2 # two\n\n# c\nC="q # not a comment"'), {
      A: 'x y',
      B: '2',
      C: 'q # not a comment',
    });
    assert.throws(() => parseEnvFile('not a line'), /Line 1 of the env file/);
  });

  it('maps every cht-sync name', () => {
    const c = resolve({ env: readEnvFile(ENV_FILE) });
    assert.deepEqual(c.couch, {
      url: 'http://couchdb:5984',
      username: 'medic',
      password: 'couch-pass-from-env',
      databases: ['medic', 'medic-sentinel'],
    });
    assert.equal(c.postgres.kind, 'external');
    const pg = new URL(c.postgres.kind === 'external' ? c.postgres.url : '');
    assert.equal(pg.hostname, 'postgres');
    assert.equal(pg.port, '5432');
    assert.equal(pg.username, 'postgres');
    assert.equal(decodeURIComponent(pg.password), 'pg-pass-from-env');
    assert.equal(pg.pathname, '/data');
    assert.equal(c.schema, 'v1');
    assert.equal(c.table, 'couchdb');
    assert.deepEqual(c.pipeline, { kind: 'git', url: 'https://github.com/medic/cht-pipeline.git#main' });
    assert.deepEqual(c.transform, { threads: 2, batchSize: 100000, selector: null, intervalSeconds: 5 });
  });

  it('COUCHDB_SECURE=true means https, on 443 unless COUCHDB_PORT says otherwise', () => {
    assert.equal(
      resolve({ env: { COUCHDB_HOST: 'cht.example.org', COUCHDB_SECURE: 'true' } }).couch?.url,
      'https://cht.example.org',
    );
    assert.equal(
      resolve({ env: { COUCHDB_HOST: 'cht.example.org', COUCHDB_SECURE: 'true', COUCHDB_PORT: '6984' } }).couch?.url,
      'https://cht.example.org:6984',
    );
    assert.equal(
      resolve({ env: { COUCHDB_HOST: 'cht.example.org', COUCHDB_SECURE: 'false' } }).couch?.url,
      'http://cht.example.org:5984',
    );
    assert.equal(resolve({ env: { COUCHDB_HOST: 'cht.example.org' } }).couch?.url, 'http://cht.example.org:5984');
  });

  it('COUCHDB_HOST may be a full URL; COUCHDB_SECURE/PORT still apply; credentials are split out', () => {
    const c = resolve({ env: { COUCHDB_HOST: 'https://u:p%40ss@cht.example.org' } });
    assert.equal(c.couch?.url, 'https://cht.example.org');
    assert.equal(c.couch?.username, 'u');
    assert.equal(c.couch?.password, 'p@ss');
    assert.equal(
      resolve({ env: { COUCHDB_HOST: 'http://cht.example.org:5984', COUCHDB_SECURE: 'true', COUCHDB_PORT: '443' } })
        .couch?.url,
      'https://cht.example.org',
    );
  });

  it('COUCHDB_DBS: comma- or space-separated, quoted, de-duplicated', () => {
    const dbs = (v: string) => resolve({ env: { COUCHDB_HOST: 'h', COUCHDB_DBS: v } }).couch?.databases;
    assert.deepEqual(dbs('medic medic-sentinel'), ['medic', 'medic-sentinel']);
    assert.deepEqual(dbs('medic,medic-sentinel, medic-users-meta'), ['medic', 'medic-sentinel', 'medic-users-meta']);
    assert.deepEqual(dbs('"medic _users"'), ['medic', '_users']);
    assert.deepEqual(dbs('medic medic'), ['medic']);
    assert.deepEqual(resolve({ env: { COUCHDB_HOST: 'h' } }).couch?.databases, ['medic']);
  });

  it('DBT_LOCAL_PATH wins over CHT_PIPELINE_BRANCH_URL; DBT_SELECTOR is kept', () => {
    const c = resolve({
      env: {
        DBT_LOCAL_PATH: '/src/cht-pipeline',
        CHT_PIPELINE_BRANCH_URL: 'https://github.com/medic/cht-pipeline.git#main',
        DBT_SELECTOR: 'tag:base',
      },
    });
    assert.deepEqual(c.pipeline, { kind: 'folder', path: path.resolve('/src/cht-pipeline') });
    assert.equal(c.transform.selector, 'tag:base');
  });

  it('empty env values count as unset', () => {
    const c = resolve({ env: { COUCHDB_HOST: '', POSTGRES_SCHEMA: '', DBT_BATCH_SIZE: '' } });
    assert.equal(c.couch, null);
    assert.equal(c.schema, 'v1');
    assert.equal(c.transform.batchSize, null);
  });
});

describe('resolveConfig: precedence flags > env > saved > defaults', () => {
  const env = {
    COUCHDB_HOST: 'env-host',
    COUCHDB_USER: 'env-user',
    COUCHDB_PASSWORD: 'env-password',
    COUCHDB_DBS: 'medic',
    POSTGRES_SCHEMA: 'env_schema',
    POSTGRES_TABLE: 'env_table',
    DBT_THREAD_COUNT: '3',
  };
  const stored = saved({
    couch: {
      url: 'https://saved-host',
      username: 'saved-user',
      databases: ['medic-sentinel'],
      trustedFingerprint256: null,
    },
    postgres: {
      kind: 'external',
      host: 'saved-pg',
      port: 5433,
      database: 'analytics',
      username: 'saved-pg-user',
      ssl: true,
    },
    schema: 'saved_schema',
    table: 'saved_table',
    pipeline: { kind: 'folder', path: '/saved/project' },
    advanced: { batchSize: 500, threads: 4, transformBatchSize: 2000 },
  });
  const secrets = memorySecretStore({
    'couch.password': 'saved-couch-password',
    'postgres.password': 'saved-pg-password',
  });

  it('saved settings (with secrets) over defaults', () => {
    const c = resolve({ saved: stored, secrets });
    assert.deepEqual(c.couch, {
      url: 'https://saved-host',
      username: 'saved-user',
      password: 'saved-couch-password',
      databases: ['medic-sentinel'],
    });
    assert.equal(
      c.postgres.kind === 'external' && c.postgres.url,
      'postgres://saved-pg-user:saved-pg-password@saved-pg:5433/analytics?sslmode=require',
    );
    assert.equal(c.schema, 'saved_schema');
    assert.equal(c.table, 'saved_table');
    assert.equal(c.batchSize, 500);
    assert.deepEqual(c.pipeline, { kind: 'folder', path: '/saved/project' });
    assert.deepEqual(c.transform, { threads: 4, batchSize: 2000, selector: null, intervalSeconds: 5 });
  });

  it('issue 11 #1: the saved CouchDB password is bound to the saved server: --couch-url or COUCHDB_HOST naming another gets none', () => {
    const elsewhere = resolve({ flags: { couchUrl: 'https://other-host' }, saved: stored, secrets });
    assert.equal(elsewhere.couch?.password, undefined);
    const otherPort = resolve({ flags: { couchUrl: 'https://saved-host:8443' }, saved: stored, secrets });
    assert.equal(otherPort.couch?.password, undefined);
    const otherScheme = resolve({ flags: { couchUrl: 'http://saved-host' }, saved: stored, secrets });
    assert.equal(otherScheme.couch?.password, undefined);
    const fromHostEnv = resolve({ env: { COUCHDB_HOST: 'other-host', COUCHDB_USER: 'x' }, saved: stored, secrets });
    assert.equal(fromHostEnv.couch?.password, undefined);
    const same = resolve({ flags: { couchUrl: 'https://saved-host:443' }, saved: stored, secrets });
    assert.equal(same.couch?.password, 'saved-couch-password');
    // Bound explicitly to another origin (saved with a server since replaced): not given to the saved URL either.
    const rebound = memorySecretStore({
      'couch.password': 'old-password',
      'couch.password.origin': 'https://old-host:443',
    });
    assert.equal(resolve({ saved: stored, secrets: rebound }).couch?.password, undefined);
  });

  it('env over saved', () => {
    const c = resolve({ env, saved: stored, secrets });
    assert.deepEqual(c.couch, {
      url: 'http://env-host:5984',
      username: 'env-user',
      password: 'env-password',
      databases: ['medic'],
    });
    assert.equal(c.schema, 'env_schema');
    assert.equal(c.table, 'env_table');
    assert.equal(c.transform.threads, 3);
  });

  it('flags over env; URL credentials are split out of the URL', () => {
    const c = resolve({
      env,
      saved: stored,
      secrets,
      flags: {
        couchUrl: 'https://flag-user:flag%2Fpass@flag-host:8443/',
        databases: 'medic-users-meta,_users',
        schema: 'flag_schema',
        table: 'flag_table',
        batchSize: '250',
        threads: '5',
        postgresUrl: 'postgres://me@flag-pg/db',
        project: 'https://github.com/me/pipe.git#v2',
      },
    });
    assert.deepEqual(c.couch, {
      url: 'https://flag-host:8443',
      username: 'flag-user',
      password: 'flag/pass',
      databases: ['medic-users-meta', '_users'],
    });
    assert.doesNotMatch(c.couch?.url ?? '', /flag-user|pass/);
    assert.deepEqual(c.postgres, { kind: 'external', url: 'postgres://me@flag-pg/db' });
    assert.equal(c.schema, 'flag_schema');
    assert.equal(c.table, 'flag_table');
    assert.equal(c.batchSize, 250);
    assert.equal(c.transform.threads, 5);
    assert.deepEqual(c.pipeline, { kind: 'git', url: 'https://github.com/me/pipe.git#v2' });
  });

  it('a flag URL without credentials takes the user and password from the environment', () => {
    const c = resolve({ env, flags: { couchUrl: 'http://127.0.0.1:5984' } });
    assert.equal(c.couch?.username, 'env-user');
    assert.equal(c.couch?.password, 'env-password');
    const pg = resolve({ env: { POSTGRES_PASSWORD: 'from-env' }, flags: { postgresUrl: 'postgres://u@h:5432/d' } });
    assert.equal(pg.postgres.kind === 'external' && pg.postgres.url, 'postgres://u:from-env@h:5432/d');
  });

  it('--postgres-url embedded forces the embedded server over env and saved', () => {
    assert.deepEqual(resolve({ env: { POSTGRES_HOST: 'x' }, flags: { postgresUrl: 'embedded' } }).postgres, {
      kind: 'embedded',
    });
  });

  it('POSTGRES_* env over a saved external server', () => {
    const c = resolve({
      env: { POSTGRES_HOST: 'env-pg', POSTGRES_USER: 'cht', POSTGRES_DB: 'cht_sync' },
      saved: stored,
      secrets,
    });
    assert.equal(c.postgres.kind === 'external' && c.postgres.url, 'postgres://cht@env-pg:5432/cht_sync');
  });

  it('a bare host in --couch-url means https', () => {
    assert.equal(resolve({ flags: { couchUrl: 'cht.example.org' } }).couch?.url, 'https://cht.example.org');
  });
});

describe('resolveConfig: validation names the setting and the fix', () => {
  it('ports', () => {
    assert.equal(
      problemOf(() => resolve({ env: { COUCHDB_HOST: 'h', COUCHDB_PORT: 'abc' } })),
      "COUCHDB_PORT must be a number between 1 and 65535 (got 'abc').",
    );
    assert.match(
      problemOf(() => resolve({ env: { POSTGRES_HOST: 'h', POSTGRES_PORT: '70000' } })),
      /POSTGRES_PORT must be a number between 1 and 65535 \(got '70000'\)/,
    );
  });
  it('booleans, identifiers, numbers, database names', () => {
    assert.match(
      problemOf(() => resolve({ env: { COUCHDB_HOST: 'h', COUCHDB_SECURE: 'yes please' } })),
      /COUCHDB_SECURE must be 'true' \(https\) or 'false' \(http\)/,
    );
    assert.match(
      problemOf(() => resolve({ env: { POSTGRES_SCHEMA: 'v1; drop' } })),
      /POSTGRES_SCHEMA must be a plain SQL name/,
    );
    assert.match(
      problemOf(() => resolve({ flags: { table: '1table' } })),
      /the --table flag must be a plain SQL name/,
    );
    assert.match(
      problemOf(() => resolve({ flags: { batchSize: '0' } })),
      /--batch-size must be a whole number between 1 and 100000 \(got '0'\)/,
    );
    assert.match(
      problemOf(() => resolve({ env: { DBT_THREAD_COUNT: 'many' } })),
      /DBT_THREAD_COUNT must be a whole number between 1 and 32/,
    );
    assert.match(
      problemOf(() => resolve({ env: { DATAEMON_INTERVAL: '-1' } })),
      /DATAEMON_INTERVAL must be a whole number of seconds/,
    );
    assert.match(
      problemOf(() => resolve({ env: { DBT_BATCH_SIZE: '1e5' } })),
      /DBT_BATCH_SIZE must be a whole number/,
    );
    assert.match(
      problemOf(() => resolve({ env: { COUCHDB_HOST: 'h', COUCHDB_DBS: 'Medic' } })),
      /COUCHDB_DBS contains 'Medic', which is not a CouchDB database name/,
    );
    assert.match(
      problemOf(() => resolve({ env: { COUCHDB_HOST: 'h', COUCHDB_DBS: ' , ' } })),
      /COUCHDB_DBS names no database/,
    );
    assert.match(
      problemOf(() => resolve({ env: { CHT_PIPELINE_BRANCH_URL: 'main' } })),
      /CHT_PIPELINE_BRANCH_URL must be a git URL/,
    );
  });
  it('URLs, without echoing a password', () => {
    const m = problemOf(() => resolve({ flags: { couchUrl: 'ftp://u:secret-pw@h' } }));
    assert.match(m, /--couch-url must start with http:\/\/ or https:\/\//);
    assert.doesNotMatch(m, /secret-pw/);
    assert.match(
      problemOf(() => resolve({ flags: { postgresUrl: 'mysql://h/db' } })),
      /--postgres-url must start with postgres:\/\//,
    );
    assert.match(
      problemOf(() => resolve({ env: { COUCHDB_PORT: '5984' } })),
      /COUCHDB_HOST is not/,
    );
  });
  it('a database URL given as the server URL', () => {
    assert.equal(
      problemOf(() => resolve({ flags: { couchUrl: 'https://cht.example.org/medic' } })),
      "--couch-url must be the server's address, not a database: use https://cht.example.org and name 'medic' in --databases / COUCHDB_DBS.",
    );
    assert.match(
      problemOf(() => resolve({ flags: { couchUrl: 'https://h.example/couchdb/medic-sentinel/' } })),
      /use https:\/\/h\.example\/couchdb and name 'medic-sentinel'/,
    );
    assert.equal(
      resolve({ flags: { couchUrl: 'https://h.example/couchdb/' } }).couch?.url,
      'https://h.example/couchdb',
      'a path prefix is kept',
    );
  });

  it('reports every problem at once', () => {
    const m = problemOf(() => resolve({ env: { COUCHDB_HOST: 'h', COUCHDB_PORT: 'x', POSTGRES_SCHEMA: '-' } }));
    assert.match(m, /2 problems/);
    assert.match(m, /COUCHDB_PORT/);
    assert.match(m, /POSTGRES_SCHEMA/);
  });
});

describe('resolveConfig: a trusted self-signed certificate', () => {
  const FP = 'ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89';
  const OTHER = FP.replace(/^ab/, '00').toUpperCase();

  it('--trust-certificate > CHT_SYNC_TRUST_CERTIFICATE > saved; written as Node reports it (upper case, colons)', () => {
    const withSaved = saved({
      couch: { url: 'https://cht.example.org', username: null, databases: ['medic'], trustedFingerprint256: OTHER },
    });
    assert.equal(resolve({ saved: withSaved }).couch?.trustedFingerprint256, OTHER);
    assert.equal(
      resolve({ saved: withSaved, env: { CHT_SYNC_TRUST_CERTIFICATE: FP.replace(/:/g, '') } }).couch
        ?.trustedFingerprint256,
      FP.toUpperCase(),
    );
    assert.equal(
      resolve({ saved: withSaved, flags: { trustCertificate: FP } }).couch?.trustedFingerprint256,
      FP.toUpperCase(),
    );
  });

  it('a saved trust belongs to the saved server: not carried to another URL', () => {
    const withSaved = saved({
      couch: { url: 'https://cht.example.org', username: null, databases: ['medic'], trustedFingerprint256: OTHER },
    });
    assert.equal(
      resolve({ saved: withSaved, flags: { couchUrl: 'https://cht.example.org' } }).couch?.trustedFingerprint256,
      OTHER,
    );
    assert.equal(
      resolve({ saved: withSaved, flags: { couchUrl: 'https://other.example.org' } }).couch?.trustedFingerprint256,
      undefined,
    );
  });

  it('a value that is not a SHA-256 fingerprint is refused, naming the setting', () => {
    const message = problemOf(() =>
      resolve({ flags: { couchUrl: 'https://cht.example.org', trustCertificate: 'AB:CD' } }),
    );
    assert.match(message, /--trust-certificate is not a SHA-256 certificate fingerprint/);
  });
});

describe('data folder', () => {
  it('--data-dir > CHT_SYNC_DATA_DIR > platform default', () => {
    assert.equal(resolveDataDir({ dataDir: '/flag' }, { CHT_SYNC_DATA_DIR: '/env' }), '/flag');
    assert.equal(resolveDataDir({}, { CHT_SYNC_DATA_DIR: '/env' }), '/env');
    assert.equal(resolveDataDir({}, { CHT_SYNC_DATA_DIR: 'rel' }), path.resolve('rel'));
  });
  it('platform defaults match the desktop app’s folder', () => {
    assert.equal(defaultDataDir('linux', { XDG_CONFIG_HOME: '/x/cfg' }, '/home/a'), '/x/cfg/cht-sync-desktop');
    assert.equal(defaultDataDir('linux', {}, '/home/a'), '/home/a/.config/cht-sync-desktop');
    assert.equal(
      defaultDataDir('linux', { XDG_CONFIG_HOME: 'relative' }, '/home/a'),
      '/home/a/.config/cht-sync-desktop',
    );
    assert.equal(defaultDataDir('darwin', {}, '/Users/a'), '/Users/a/Library/Application Support/CHT Sync Desktop');
    assert.equal(
      defaultDataDir('win32', { APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'C:\\Users\\a'),
      'C:\\Users\\a\\AppData\\Roaming\\CHT Sync Desktop',
    );
  });
});

describe('resolveConfig: scope (--scope, CHT_SYNC_SCOPE, the saved district)', () => {
  const couchUrl = 'https://cht.example.org';
  it('flag over environment over saved; comma or space lists; none means everything', () => {
    const savedScope = saved({ couch: { ...defaultSavedSettings().couch, url: couchUrl, scope: ['saved-place'] } });
    assert.equal(resolve({ flags: { couchUrl }, env: {} }).couch?.scope, undefined);
    assert.deepEqual(resolve({ saved: savedScope }).couch?.scope, ['saved-place']);
    assert.deepEqual(resolve({ saved: savedScope, env: { CHT_SYNC_SCOPE: 'a b' } }).couch?.scope, ['a', 'b']);
    assert.deepEqual(
      resolve({ saved: savedScope, env: { CHT_SYNC_SCOPE: 'a b' }, flags: { scope: 'c,d,c' } }).couch?.scope,
      ['c', 'd'],
    );
  });
  it('a design-doc-like id is named as not a place id', () => {
    assert.match(
      problemOf(() => resolve({ flags: { couchUrl, scope: '_design/medic' } })),
      /--scope contains '_design\/medic', which is not a place _id/,
    );
  });
});
