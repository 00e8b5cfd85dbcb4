/**
 * CI's check of the container recipe (build-steps.sh ci): the service staged into a clean folder
 * (what the image holds under /app) is started as the image starts it — `node dist/cli.cjs run`,
 * configured only by cht-sync's variables, logs on standard output — against PostgreSQL (the
 * machine's, or an embedded one) and a pouchdb-server standing in for a CHT instance. It must
 * answer /healthz at once, become ready, sync the documents, expose them on /metrics, and stop
 * on SIGTERM with exit 0 within the grace period.
 *
 *   node --import tsx resources/docker/smoke.ts <staged folder>
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pgLib from 'pg';
import { startTestServices } from '../../test/support/services';
import { adminHeaders, TEST_ADMIN } from '../../test/support/pouchdb-server';

const staged = path.resolve(process.argv[2] ?? '');
const DOCS = 500;

function fail(message: string, logs = ''): never {
  console.error(`smoke: ${message}`);
  if (logs) console.error(logs.split('\n').slice(-40).join('\n'));
  process.exit(1);
}

async function until<T>(what: string, f: () => Promise<T | null>, timeoutMs: number, logs: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`, logs());
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const services = await startTestServices();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-smoke-'));
  const schema = `smoke_${Date.now().toString(36)}`;
  try {
    const couch = new URL(services.env.CHT_SYNC_TEST_COUCH_URL!);
    const pg = new URL(services.env.CHT_SYNC_TEST_PG_URL!);
    const db = 'medic';
    const put = await fetch(`${couch.origin}/${db}`, { method: 'PUT', headers: adminHeaders() });
    if (put.status !== 201 && put.status !== 412) fail(`could not create the test database (${put.status})`);
    const docs = Array.from({ length: DOCS }, (_, k) => ({
      _id: `smoke-${k}`,
      type: k % 2 ? 'data_record' : 'person',
      reported_date: 1_700_000_000_000 + k,
      form: 'smoke',
      name: `Smoke ${k}`,
    }));
    const bulk = await fetch(`${couch.origin}/${db}/_bulk_docs`, {
      method: 'POST',
      headers: adminHeaders(),
      body: JSON.stringify({ docs }),
    });
    if (bulk.status !== 201) fail(`could not load the test documents (${bulk.status})`);

    // An existing cht-sync .env's variables, as compose or the chart pass them.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dataDir,
      NODE_ENV: 'production',
      COUCHDB_HOST: couch.hostname,
      COUCHDB_PORT: couch.port,
      COUCHDB_SECURE: 'false',
      COUCHDB_USER: TEST_ADMIN.username,
      COUCHDB_PASSWORD: TEST_ADMIN.password,
      COUCHDB_DBS: db,
      POSTGRES_HOST: pg.hostname,
      POSTGRES_PORT: pg.port || '5432',
      POSTGRES_USER: decodeURIComponent(pg.username) || 'postgres',
      POSTGRES_PASSWORD: decodeURIComponent(pg.password),
      POSTGRES_DB: `${pg.pathname.replace(/^\//, '') || 'postgres'}`,
      POSTGRES_SCHEMA: schema,
      DATAEMON_INTERVAL: '1',
      CHT_SYNC_DATA_DIR: dataDir,
      CHT_SYNC_METRICS_PORT: '0',
    };
    const child = spawn(process.execPath, [path.join(staged, 'dist/cli.cjs'), 'run'], {
      cwd: dataDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const logs = () => `${out}\n${err}`;

    const url = await until(
      'the metrics address in the log',
      async () => {
        for (const line of out.split('\n'))
          if (line.includes('metrics and health endpoints listening')) return (JSON.parse(line) as { url: string }).url;
        return null;
      },
      20_000,
      logs,
    );
    const health = await fetch(`${url}/healthz`);
    if (health.status !== 200) fail(`/healthz answered ${health.status}`, logs());
    await until('/readyz', async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : null), 30_000, logs);
    const synced = await until(
      'the documents on /metrics',
      async () => {
        const text = await (await fetch(`${url}/metrics`)).text();
        const n = Number(/^cht_sync_documents_synced_total\{database="medic"\} (\d+)$/m.exec(text)?.[1] ?? 0);
        return n >= DOCS ? n : null;
      },
      60_000,
      logs,
    );
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 30_000))]);
    if (code !== 0) fail(`the service did not stop cleanly on SIGTERM (exit ${code})`, logs());
    for (const line of out.trim().split('\n')) {
      try {
        JSON.parse(line);
      } catch {
        fail(`a log line is not JSON: ${line}`, logs());
      }
    }
    // Standard output is the log: JSON lines only.
    if (err.trim()) fail(`the service wrote outside its log: ${err.trim().split('\n')[0]}`, logs());
    if (logs().includes(TEST_ADMIN.password)) fail('the password reached the log');
    console.log(
      `smoke: the staged service synced ${synced} documents, answered /healthz, /readyz and /metrics, and stopped on SIGTERM (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    const client = new pgLib.Client({ connectionString: services.env.CHT_SYNC_TEST_PG_URL });
    await client
      .connect()
      .then(() => client.query(`drop schema if exists "${schema}" cascade`))
      .catch(() => undefined);
    await client.end().catch(() => undefined);
    await services.stop();
  }
}

if (!process.argv[2]) fail('usage: smoke.ts <staged folder>');
main().then(
  () => process.exit(0),
  (error: unknown) => fail(String((error as Error)?.stack ?? error)),
);
