import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import type { SyncRunResult, TransformRunResult } from '../../../app/contract/dto';
import { embeddedClusterDir } from '../../../app/postgres/embedded';
import { createTestDatabase } from '../../support/postgres';
import { startPouchServer, type PouchServer } from '../../support/pouchdb-server';
import { FIXTURE_INDEX, assertSameAsCouch, loadFixtures, newPool, rawRows } from '../sync/helpers';
import { cliBundleOptions } from '../../../resources/scripts/cli-bundle.mjs';

/**
 * The `cht-sync` command as a user runs it: a separate process, against a real
 * pouchdb-server holding the 48 fixture documents and a real PostgreSQL.
 * The current source is bundled once for the run as `npm run build` does (a process per
 * command then starts in a fraction of tsx's time); CHT_SYNC_TEST_CLI=dist runs the built bin.
 */
const BUILT = path.resolve('dist/cli.cjs');
// Inside node_modules so the bundle's external packages resolve from the repository.
const TEST_BUNDLE = path.resolve('node_modules/.cache/cht-sync-test/cli.cjs');
let ENTRY: string[] = [BUILT];

async function bundleCli(): Promise<void> {
  if (process.env.CHT_SYNC_TEST_CLI === 'dist') return;
  const { build } = await import('esbuild');
  await build(cliBundleOptions(TEST_BUNDLE));
  ENTRY = [TEST_BUNDLE];
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(
  args: string[],
  env: Record<string, string> = {},
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void,
): Promise<Ran> {
  return new Promise((resolve) => {
    const clean: NodeJS.ProcessEnv = {};
    // The machine's environment must not configure the command under test.
    for (const [k, v] of Object.entries(process.env))
      if (!/^(COUCHDB_|POSTGRES_|DBT_|CHT_SYNC_DATA_DIR|CHT_PIPELINE|DATAEMON)/.test(k)) clean[k] = v;
    const child = spawn(process.execPath, [...ENTRY, ...args], {
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('cht-sync CLI against pouchdb-server and PostgreSQL', () => {
  let couch: PouchServer;
  let pgDb: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let dataDir: string;
  let databases: string[];
  const common = () => [
    '--couch-url',
    couch.url,
    '--postgres-url',
    pgDb.url,
    '--data-dir',
    dataDir,
    '--databases',
    databases.join(','),
  ];
  const credentials = () => ({ COUCHDB_USER: couch.username, COUCHDB_PASSWORD: couch.password });

  before(async () => {
    await bundleCli();
    couch = await startPouchServer();
    databases = await loadFixtures(couch.url);
    pgDb = await createTestDatabase('cli');
    pool = newPool(pgDb.url);
    dataDir = mkdtempSync(path.join(tmpdir(), 'cht-cli-'));
  });
  after(async () => {
    await pool?.end();
    await pgDb?.drop();
    await couch?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'the built bin runs as npx runs it (directly: shebang, executable) and answers --help',
    { skip: !existsSync(BUILT) && 'run `npm run build` first' },
    async () => {
      const ran = await new Promise<Ran>((resolve) => {
        const [command, args] =
          process.platform === 'win32' ? [process.execPath, [BUILT, '--help']] : [BUILT, ['--help']];
        const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        child.on('error', (error) => resolve({ code: -1, stdout: '', stderr: error.message }));
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr: '' }));
      });
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stdout, /Usage: cht-sync/);
    },
  );

  it('sync --once copies the 48 fixture documents, prints a per-database summary and exits 0', async () => {
    const ran = await cli(['sync', '--once', ...common()], credentials());
    assert.equal(ran.code, 0, ran.stderr + ran.stdout);
    for (const db of databases)
      assert.match(
        ran.stdout,
        new RegExp(`^${db.replace(/[-_]/g, '\\$&')}\\s+\\d+\\s+\\d+\\s+\\d+\\s+.+\\s+done$`, 'm'),
      );
    assert.match(ran.stdout, /DATABASE\s+DOCS\s+DELETES\s+SKIPPED\s+SIZE\s+TIME\s+OUTCOME/);
    assert.match(ran.stdout, /Run #\d+: done/);
    assert.doesNotMatch(ran.stdout + ran.stderr, new RegExp(couch.password));
    await assertSameAsCouch(pool, couch.url, databases, '127.0.0.1');
    const rows = await rawRows(pool);
    for (const entry of FIXTURE_INDEX) {
      assert.equal(
        rows.filter((r) => r._id === entry._id && r.source === `127.0.0.1/${entry.db}`).length,
        1,
        `${entry.db}/${entry._id} exactly once`,
      );
    }
  });

  it('a second run writes nothing; --json gives the run result', async () => {
    const ran = await cli(['sync', '--once', '--json', ...common()], credentials());
    assert.equal(ran.code, 0, ran.stderr);
    const result = JSON.parse(ran.stdout) as SyncRunResult;
    assert.equal(result.outcome, 'done');
    assert.deepEqual(result.databases.map((d) => d.database).sort(), [...databases].sort());
    for (const d of result.databases) {
      assert.equal(d.docs, 0, `${d.database} wrote nothing new`);
      assert.equal(d.reachedEnd, true);
    }
  });

  it('status --json reports each database’s checkpoint and last run from the store', async () => {
    const ran = await cli([
      'status',
      '--json',
      '--data-dir',
      dataDir,
      '--couch-url',
      couch.url,
      '--databases',
      databases.join(','),
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    const status = JSON.parse(ran.stdout) as {
      dataDir: string;
      databases: {
        database: string;
        source: string;
        seq: string | null;
        seqShort: string | null;
        lastRun: { id: number; outcome: string } | null;
      }[];
      recentRuns: { id: number; kind: string; outcome: string }[];
    };
    assert.equal(status.dataDir, dataDir);
    assert.equal(status.databases.length, databases.length);
    for (const d of status.databases) {
      assert.equal(d.source, `127.0.0.1/${d.database}`);
      assert.ok(d.seq, `${d.database} has a checkpoint`);
      assert.equal(d.lastRun?.outcome, 'done');
    }
    assert.equal(status.recentRuns.length, 2);
    const human = await cli([
      'status',
      '--data-dir',
      dataDir,
      '--couch-url',
      couch.url,
      '--databases',
      databases.join(','),
    ]);
    assert.match(human.stdout, /DATABASE\s+LAST SEQ\s+PENDING\s+LAST RUN\s+OUTCOME/);
    assert.match(human.stdout, /^medic\s+\S+\s+\S+\s+#2 .* done$/m);
  });

  it('verify: a clean copy exits 0; a lost row is reported (exit 1) then fetched again by --fix; both runs in the history as kind verify', async () => {
    const clean = await cli(['verify', ...common()], credentials());
    assert.equal(clean.code, 0, clean.stderr + clean.stdout);
    assert.match(clean.stdout, /DATABASE\s+SERVER\s+POSTGRES\s+MISSING\s+STALE\s+PURGED\s+OUT OF SCOPE\s+OUTCOME/);
    const lost = (
      await pool.query<{ _id: string }>(
        `select _id from v1.couchdb where source = '127.0.0.1/medic' and not _deleted and _id not like '\\_%' order by _id limit 1`,
      )
    ).rows[0]!._id;
    await pool.query(`delete from v1.couchdb where _id = $1 and source = '127.0.0.1/medic'`, [lost]);
    const found = await cli(['verify', ...common()], credentials());
    assert.equal(found.code, 1, found.stderr + found.stdout);
    assert.match(found.stdout, new RegExp(`medic examples: missing ${lost.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(found.stdout, /cht-sync verify --fix/);
    const fixed = await cli(['verify', '--fix', '--json', ...common()], credentials());
    assert.equal(fixed.code, 0, fixed.stderr);
    const result = JSON.parse(fixed.stdout) as {
      runId: number;
      databases: { database: string; missing: number; fetched: number }[];
    };
    assert.deepEqual(
      result.databases.filter((d) => d.database === 'medic').map((d) => [d.missing, d.fetched]),
      [[1, 1]],
    );
    assert.equal((await pool.query(`select 1 from v1.couchdb where _id = $1`, [lost])).rowCount, 1);
    await assertSameAsCouch(pool, couch.url, databases, '127.0.0.1');
    const status = JSON.parse(
      (
        await cli([
          'status',
          '--json',
          '--data-dir',
          dataDir,
          '--couch-url',
          couch.url,
          '--databases',
          databases.join(','),
        ])
      ).stdout,
    ) as { recentRuns: { id: number; kind: string }[] };
    assert.deepEqual(status.recentRuns.filter((r) => r.kind === 'verify').length, 3);
  });

  it('issue 11 #9: `status | head -1` and `sync --once | head -1` end with their own exit code, no EPIPE crash', async () => {
    for (const command of [['status'], ['sync', '--once']]) {
      const args = [...ENTRY, ...command, ...common()].map((a) => `'${a}'`).join(' ');
      const ran = spawnSync(
        'bash',
        ['-c', `'${process.execPath}' ${args} | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`],
        { env: { ...process.env, ...credentials() }, encoding: 'utf8' },
      );
      assert.equal(ran.stdout.split('\n').filter(Boolean).length, 1, ran.stdout);
      assert.doesNotMatch(ran.stderr, /EPIPE|Unhandled/, ran.stderr);
      assert.match(ran.stderr, /exit=0\n$/, `${command.join(' ')}: ${ran.stderr}`);
    }
  });

  it(
    'issue 11 #4/#9: --env-file that is missing or not an env file: exit 2, nothing of the file echoed',
    { skip: !existsSync(BUILT) && 'run `npm run build` first' },
    async () => {
      const shadow = path.join(dataDir, 'shadow-like');
      writeFileSync(shadow, 'root:$6$SaltSalt$HashHashHash:19000:0:99999:7:::\n');
      for (const file of ['missing.env', shadow]) {
        // As npx runs it: the built bin, directly (Node 20 itself claims --env-file before the program runs).
        const ran = await new Promise<Ran>((resolve) => {
          const child = spawn(BUILT, ['status', '--env-file', file, '--data-dir', dataDir], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('exit', (code) => resolve({ code, stdout, stderr }));
        });
        assert.equal(ran.code, 2, ran.stderr);
        assert.match(ran.stderr, /--env-file|env file/);
        assert.doesNotMatch(ran.stderr + ran.stdout, /root|SaltSalt|HashHash/);
      }
    },
  );

  it('issue 11 #5: escape sequences in a server’s error never reach the terminal', async () => {
    const hostile = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/') return void res.end('{"couchdb":"Welcome","version":"3.3.3"}');
      res.writeHead(500).end(
        JSON.stringify({
          error: '\u001b]0;owned\u0007x',
          reason: '\u001b[2Jcleared \u001b]8;;http://evil.example\u0007click\u001b]8;;\u0007 \u009b2J\u202eok',
        }),
      );
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
      const ran = await cli([
        'sync',
        '--once',
        '--couch-url',
        url,
        '--databases',
        'medic',
        '--postgres-url',
        pgDb.url,
        '--data-dir',
        dataDir,
      ]);
      assert.equal(ran.code, 2, ran.stderr);
      assert.match(ran.stderr, /x: cleared click ok/);
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(ran.stderr + ran.stdout, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    } finally {
      hostile.close();
    }
  });

  it('a wrong password: exit 2, names COUCHDB_USER and the URL, no password, no stack trace', async () => {
    const wrong = 'definitely-wrong-pass';
    const ran = await cli(['sync', '--once', ...common()], { COUCHDB_USER: 'admin', COUCHDB_PASSWORD: wrong });
    assert.equal(ran.code, 2, ran.stderr);
    assert.match(ran.stderr, /^error: /m);
    assert.match(ran.stderr, /COUCHDB_USER/);
    assert.match(ran.stderr, /'admin'/);
    assert.match(ran.stderr, new RegExp(`http://127.0.0.1:${couch.port}`));
    assert.doesNotMatch(ran.stdout + ran.stderr, new RegExp(wrong));
    assert.doesNotMatch(ran.stderr, /^\s+at /m, 'no stack trace');
    // Credentials inside the URL are never echoed either.
    const inUrl = await cli([
      'sync',
      '--once',
      ...common().map((a) => (a === couch.url ? couch.url.replace('//', `//admin:${wrong}@`) : a)),
    ]);
    assert.equal(inUrl.code, 2, inUrl.stderr);
    assert.doesNotMatch(inUrl.stdout + inUrl.stderr, new RegExp(wrong));
  });

  it('a mistyped database: exit 2 with the near miss; --json gives the error code', async () => {
    const ran = await cli(['sync', '--once', ...common(), '--databases', 'medic,medic_sentinel'], credentials());
    assert.equal(ran.code, 2, ran.stderr);
    assert.match(ran.stderr, /'medic_sentinel' \(did you mean 'medic-sentinel'\?\)/);
    assert.match(ran.stderr, /--databases or COUCHDB_DBS/);
    const json = await cli(['sync', '--once', '--json', ...common(), '--databases', 'medic_sentinel'], credentials());
    assert.equal(json.code, 2);
    const parsed = JSON.parse(json.stdout) as {
      ok: boolean;
      error: { code: string; details: { missing: { suggestion: string }[] } };
    };
    assert.equal(parsed.ok, false);
    assert.equal(parsed.error.code, 'COUCH_DB_MISSING');
    assert.equal(parsed.error.details.missing[0]?.suggestion, 'medic-sentinel');
  });

  it('an existing cht-sync env file works unchanged (--env-file)', async () => {
    const { writeFileSync } = await import('node:fs');
    const pgUrl = new URL(pgDb.url);
    const envFile = path.join(dataDir, 'cht-sync.env');
    writeFileSync(
      envFile,
      [
        `COUCHDB_USER=${couch.username}`,
        `COUCHDB_PASSWORD=${couch.password}`,
        `COUCHDB_DBS="medic medic-sentinel" # space separated`,
        `COUCHDB_HOST=127.0.0.1`,
        `COUCHDB_PORT=${couch.port}`,
        'COUCHDB_SECURE=false',
        `POSTGRES_HOST=${pgUrl.hostname}`,
        `POSTGRES_PORT=${pgUrl.port || 5432}`,
        `POSTGRES_USER=${decodeURIComponent(pgUrl.username) || 'postgres'}`,
        `POSTGRES_PASSWORD=${decodeURIComponent(pgUrl.password)}`,
        `POSTGRES_DB=${pgUrl.pathname.slice(1)}`,
        'POSTGRES_SCHEMA=v1',
        'POSTGRES_TABLE=couchdb',
      ].join('\n'),
    );
    const ran = await cli(['sync', '--once', '--json', '--env-file', envFile, '--data-dir', dataDir]);
    assert.equal(ran.code, 0, ran.stderr + ran.stdout);
    const result = JSON.parse(ran.stdout) as SyncRunResult;
    assert.deepEqual(
      result.databases.map((d) => d.database),
      ['medic', 'medic-sentinel'],
    );
  });

  it('transform builds the bundled pipeline on the synced rows; a selection matching nothing exits 2', async () => {
    const ran = await cli(['transform', '--json', ...common()]);
    assert.equal(ran.code, 0, ran.stderr + ran.stdout);
    const result = JSON.parse(ran.stdout) as TransformRunResult;
    assert.equal(result.outcome, 'done');
    assert.ok(result.models.length > 0);
    for (const m of result.models) assert.equal(m.status, 'success', `${m.model}: ${m.error?.message ?? ''}`);
    const built = await pool.query<{ n: string }>(
      `select count(*) as n from information_schema.tables where table_schema = 'v1' and table_name = any($1)`,
      [result.models.map((m) => m.model)],
    );
    assert.equal(
      Number(built.rows[0]?.n),
      result.models.filter((m) => m.materialized !== 'ephemeral').length,
      'every model is a table or view in PostgreSQL',
    );
    const none = await cli(['transform', ...common(), '--select', 'no_model_by_this_name']);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /no model matches --select no_model_by_this_name/);
  });

  it('serve prints a single-use link (and the next one once used), answers the API with the token, and stops on SIGINT', async () => {
    let info: { url: string; urlWithToken: string; token: string } | null = null;
    let checks: Promise<void> | null = null;
    const ran = await cli(['serve', '--json', '--port', '0', ...common()], credentials(), (out, child) => {
      if (info || !out.includes('urlWithToken')) return;
      info = JSON.parse(out.trim().split('\n').pop()!) as { url: string; urlWithToken: string; token: string };
      const { url, urlWithToken, token } = info;
      checks = (async () => {
        try {
          assert.ok(token);
          assert.ok(!urlWithToken.includes(token), 'the API token is never put in a link');
          const signIn = await fetch(urlWithToken, { redirect: 'manual' });
          assert.equal(signIn.status, 303);
          assert.equal((await fetch(urlWithToken, { redirect: 'manual' })).status, 401, 'a used link is refused');
          assert.match(url, /^http:\/\/127\.0\.0\.1:\d+/);
          const refused = await fetch(`${url}/api/invoke/runs.list`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          });
          assert.equal(refused.status, 401);
          const res = await fetch(`${url}/api/invoke/runs.list`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: '{}',
          });
          const wire = (await res.json()) as { ok: boolean; value: { kind: string }[] };
          assert.equal(wire.ok, true);
          assert.ok(
            wire.value.some((r) => r.kind === 'sync'),
            'the runs of this data folder',
          );
        } finally {
          child.kill('SIGINT');
        }
      })();
    });
    assert.ok(info, ran.stdout + ran.stderr);
    await checks;
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(
      ran.stdout,
      /"event":"link","urlWithToken":"http:\/\/127\.0\.0\.1:\d+\/\?token=/,
      'the next link is printed',
    );
  });

  it('with no PostgreSQL configured, the embedded one is started and how to connect is printed (password masked)', async () => {
    const embeddedDir = mkdtempSync(path.join(tmpdir(), 'cht-cli-embedded-'));
    try {
      const ran = await cli(
        ['sync', '--once', '--couch-url', couch.url, '--databases', 'medic', '--data-dir', embeddedDir],
        credentials(),
      );
      assert.equal(ran.code, 0, ran.stderr + ran.stdout);
      const line = /PostgreSQL \(embedded\): psql "(postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/cht_sync)"/.exec(
        ran.stdout,
      );
      assert.ok(line, ran.stdout);
      assert.match(
        ran.stdout,
        new RegExp(
          `the password is in ${path.join(embeddedDir, 'postgres.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
        ),
      );
      const { password } = JSON.parse(readFileSync(path.join(embeddedDir, 'postgres.json'), 'utf8')) as {
        password: string;
      };
      assert.doesNotMatch(ran.stdout + ran.stderr, new RegExp(password.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.match(ran.stdout, /^medic\s+40\s+2\s+0\s+.*done$/m);
    } finally {
      rmSync(embeddedClusterDir(embeddedDir), { recursive: true, force: true });
      rmSync(embeddedDir, { recursive: true, force: true });
    }
  });

  it('run follows the feeds and runs the transforms when new rows land, then stops on SIGINT', async () => {
    const events: { event: string; run: { id: number; kind: string; outcome: string } }[] = [];
    let added = false;
    let stopped = false;
    let checkedRuns = 1;
    let deadline: NodeJS.Timeout | null = null;
    const ran = await cli(['run', '--json', '--interval', '1', ...common()], credentials(), (out, child) => {
      events.length = 0;
      for (const line of out.split('\n'))
        if (line.startsWith('{"event"')) events.push(JSON.parse(line) as (typeof events)[number]);
      const transforms = events.filter((e) => e.run.kind === 'transform');
      if (!added && transforms.length >= 1) {
        added = true;
        // A new report arrives: the daemon must sync it and run the incremental models again.
        void fetch(`${couch.url}/medic/cli-run-new-report`, {
          method: 'PUT',
          headers: {
            authorization: `Basic ${Buffer.from(`${couch.username}:${couch.password}`).toString('base64')}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ type: 'data_record', form: 'pregnancy', reported_date: Date.now(), fields: {} }),
        });
      }
      // Stop after the transform run that built the new report (a run may start before the row lands).
      if (added && !stopped && transforms.length > checkedRuns) {
        checkedRuns = transforms.length;
        void pool.query(`select 1 from v1.data_record where uuid = 'cli-run-new-report'`).then(
          (r) => {
            if (r.rowCount === 1 && !stopped) {
              stopped = true;
              child.kill('SIGINT');
            }
          },
          () => undefined,
        );
      }
      if (!deadline) deadline = setTimeout(() => child.kill('SIGKILL'), 90_000);
    });
    if (deadline) clearTimeout(deadline);
    assert.ok(stopped, `a transform run building the new report was expected:\n${ran.stdout}\n${ran.stderr}`);
    assert.equal(ran.code, 0, ran.stderr);
    for (const e of events.filter((x) => x.run.kind === 'transform')) assert.equal(e.run.outcome, 'done');
    const row = await pool.query(`select 1 from v1.data_record where uuid = 'cli-run-new-report'`).catch(() => null);
    assert.equal(row?.rowCount, 1, 'the new report reached the data_record model');
  });

  it('a self-signed HTTPS server: exit 2 saying so; trusted by its fingerprint (or NODE_EXTRA_CA_CERTS) it syncs', async () => {
    const certDir = mkdtempSync(path.join(tmpdir(), 'cht-cli-tls-'));
    const key = path.join(certDir, 'key.pem');
    const cert = path.join(certDir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const proxy = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      const upstream = http.request(`${couch.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    proxy.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const tlsUrl = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const tlsDataDir = mkdtempSync(path.join(tmpdir(), 'cht-cli-tls-data-'));
    try {
      const args = [
        'sync',
        '--once',
        '--couch-url',
        tlsUrl,
        '--postgres-url',
        pgDb.url,
        '--data-dir',
        tlsDataDir,
        '--databases',
        'medic',
      ];
      const refused = await cli(args, { ...credentials(), NODE_EXTRA_CA_CERTS: '' });
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /certificate is self-signed/);
      const fingerprint = /--trust-certificate ([0-9A-F:]{95})/.exec(refused.stderr)?.[1];
      assert.ok(fingerprint, `the error gives the flag to pass, with the fingerprint: ${refused.stderr}`);
      const pinned = await cli([...args, '--trust-certificate', fingerprint.toLowerCase()], {
        ...credentials(),
        NODE_EXTRA_CA_CERTS: '',
      });
      assert.equal(pinned.code, 0, pinned.stderr + pinned.stdout);
      // PostgreSQL holds the resume position for this source already: caught up, nothing new.
      assert.match(pinned.stdout, /^medic\s+0\s+0\s+0\s+.*done$/m);
      const wrong = await cli([...args, '--trust-certificate', `${fingerprint.slice(0, -2)}00`], {
        ...credentials(),
        NODE_EXTRA_CA_CERTS: '',
      });
      assert.equal(wrong.code, 2, wrong.stderr);
      assert.match(wrong.stderr, /not the one you chose to trust/);
      const malformed = await cli([...args, '--trust-certificate', 'AB:CD'], {
        ...credentials(),
        NODE_EXTRA_CA_CERTS: '',
      });
      assert.notEqual(malformed.code, 0);
      assert.match(malformed.stderr, /--trust-certificate is not a SHA-256 certificate fingerprint/);
      const trusted = await cli(args, { ...credentials(), NODE_EXTRA_CA_CERTS: cert });
      assert.equal(trusted.code, 0, trusted.stderr + trusted.stdout);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
      rmSync(certDir, { recursive: true, force: true });
      rmSync(tlsDataDir, { recursive: true, force: true });
    }
  });

  it('sync (follow) stops cleanly on SIGINT with exit 0', async () => {
    let signalled = false;
    const ran = await cli(['sync', ...common()], credentials(), (out, child) => {
      if (!signalled && /Following the changes feeds live/.test(out)) {
        signalled = true;
        setTimeout(() => child.kill('SIGINT'), 1500);
      }
    });
    assert.ok(signalled, ran.stdout + ran.stderr);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stderr, /stopping cleanly/);
    const status = await cli(['status', '--json', '--data-dir', dataDir]);
    const runs = (JSON.parse(status.stdout) as { recentRuns: { outcome: string }[] }).recentRuns;
    assert.notEqual(runs[0]?.outcome, 'running', 'the follow run was closed, not left running');
  });

  it('issue 11 #8: a second --table from the same source starts from the beginning and is filled, not "done" and empty', async () => {
    const ran = await cli(['sync', '--once', '--json', ...common(), '--table', 'second_copy'], credentials());
    assert.equal(ran.code, 0, ran.stderr);
    const copied = await pool.query<{ n: string }>('select count(*) as n from v1.second_copy_all');
    const original = await pool.query<{ n: string }>('select count(*) as n from v1.couchdb_all');
    assert.ok(Number(original.rows[0]!.n) > 0);
    assert.equal(copied.rows[0]!.n, original.rows[0]!.n);
    const positions = await pool.query<{ raw_table: string }>(
      'select distinct raw_table from v1.couchdb_progress order by 1',
    );
    assert.deepEqual(
      positions.rows.map((r) => r.raw_table),
      ['couchdb', 'second_copy'],
    );
    await pool.query('drop view v1.second_copy_all; drop table v1.second_copy, v1.second_copy_shadowed');
    await pool.query("delete from v1.couchdb_progress where raw_table = 'second_copy'");
  });
});
