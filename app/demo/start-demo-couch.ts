import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createCouchClient, type CouchClient } from '../couch/couch-client';
import { EngineError } from '../core/engine-error';
import type { Logger } from '../core/logger';
import { registerSecret } from '../core/redact';
import { CHT_DATABASES, generateChtDocs, seedCouch } from '../generator';
import { freePort } from '../postgres/embedded';

export interface DemoCouch {
  /** Base URL, no credentials. */
  url: string;
  username: string;
  password: string;
  databases: string[];
  port: number;
  /** Documents the generator seeded per database (from the marker file). */
  seeded: Record<string, number>;
  /** Whether this start seeded the data (false on a restart over existing data). */
  didSeed: boolean;
  stop(): Promise<void>;
}

export interface StartDemoCouchOptions {
  dataDir: string;
  /** Documents to seed on first start (all databases together); default 10,000. */
  docs?: number;
  seed?: number;
  port?: number;
  logger: Logger;
}

interface DemoState {
  username: string;
  password: string;
  port: number;
  /** The pouchdb-server we last started, so an orphan (the app was killed) can be stopped by its id. */
  pid?: number;
}

interface SeedMarker {
  seed: number;
  docs: number;
  counts: Record<string, number>;
  seededAt: string;
}

const DEFAULT_DOCS = 10_000;
const DEFAULT_SEED = 20_261_128;
const USERNAME = 'demo-admin';

/** pouchdb-server's entry script, found through module resolution so it works from sources and from dist/cli.cjs. */
export function pouchServerBin(): string {
  const pkg = require.resolve('pouchdb-server/package.json');
  return path.join(path.dirname(pkg), 'bin', 'pouchdb-server');
}

/**
 * The demo's CouchDB-protocol server: pouchdb-server as a child process, leveldb under
 * `<dataDir>/demo-couch` (kept across runs), loopback only, an admin with a generated password
 * (0600 file in dataDir) so it never runs in "admin party". On first start it creates the four
 * CHT databases and seeds them with the synthetic generator; a marker file stops a reseed.
 */
export async function startDemoCouch(o: StartDemoCouchOptions): Promise<DemoCouch> {
  const dir = path.join(o.dataDir, 'demo-couch');
  mkdirSync(dir, { recursive: true });
  const stateFile = path.join(o.dataDir, 'demo-couch.json');
  const markerFile = path.join(dir, 'seeded.json');
  const logger = o.logger;

  let state: DemoState | null = existsSync(stateFile)
    ? (JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState)
    : null;
  if (!state) state = { username: USERNAME, password: randomBytes(18).toString('base64url'), port: 0 };
  registerSecret(state.password);
  if (state.pid) await stopOrphan(state.pid, dir, logger);
  // Keep the port across runs: the sync's `source` column is `<host>/<db>`, so a new port would look like a new instance.
  let port = o.port ?? state.port;
  if (!port || !(await isPortFree(port))) {
    if (o.port)
      throw new EngineError(
        'CONFIG_INVALID',
        `Port ${o.port} for the demo CouchDB server is in use. Choose another port or stop what uses it.`,
      );
    port = await freePort();
  }
  state = { ...state, port };
  writeFileSync(stateFile, JSON.stringify(state), { mode: 0o600 });
  chmodSync(stateFile, 0o600);

  const url = `http://127.0.0.1:${port}`;
  const auth = { username: state.username, password: state.password };
  // The one CouchDB client (app/couch): anonymous until the admin exists, then as the admin.
  const anonymous = createCouchClient({ url }, { timeoutMs: 10_000, maxSockets: 2 });
  const client = createCouchClient({ url, ...auth }, { timeoutMs: 30_000, maxSockets: 2 });
  const bin = pouchServerBin();
  const args = [
    bin,
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--dir',
    dir,
    '--config',
    path.join(dir, 'config.json'),
    '--no-stdout-logs',
  ];
  // Inside Electron, process.execPath is the app itself: ELECTRON_RUN_AS_NODE makes it a plain Node for the child.
  const env = { ...process.env, NODE_OPTIONS: '', ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) };
  // Its own process group: a terminal's Ctrl-C reaches only us, and we stop the server in order
  // (after the sync has finished its batch) instead of it dying under the sync's feet.
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let isStopping = false;
  // if our process exits without stop(), take the server down with it
  const onExit = (): void => {
    child.kill('SIGTERM');
  };
  process.once('exit', onExit);
  child.once('exit', (code, signal) => {
    process.removeListener('exit', onExit);
    if (!isStopping)
      logger.error('the demo CouchDB server stopped unexpectedly', { code, signal, stderr: stderr.slice(-500) });
  });
  if (child.pid) writeFileSync(stateFile, JSON.stringify({ ...state, pid: child.pid }), { mode: 0o600 });

  const stop = async (): Promise<void> => {
    if (isStopping) return;
    isStopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
    logger.info('demo CouchDB server stopped', { port });
  };

  try {
    await waitUntilUp(anonymous, url, child, () => stderr);
    // Ends "admin party" on first start; on later starts the admin exists and the PUT just confirms it.
    // (In admin party a Basic header naming the not-yet-existing admin gets a 401, so the first try is anonymous.)
    const adminPath = `/_config/admins/${encodeURIComponent(auth.username)}`;
    let admin = await anonymous.send('PUT', adminPath, auth.password);
    if (admin.status === 401) admin = await client.send('PUT', adminPath, auth.password);
    if (admin.status < 200 || admin.status >= 300)
      throw new EngineError(
        'COUCH_AUTH',
        `The demo CouchDB server in ${dir} refused its admin (HTTP ${admin.status}). Delete ${dir} and ${stateFile} to start the demo afresh.`,
      );
    for (const db of CHT_DATABASES) {
      const res = await client.send('PUT', `/${encodeURIComponent(db)}`);
      if ((res.status < 200 || res.status >= 300) && res.status !== 412)
        throw new EngineError(
          'COUCH_SERVER',
          `The demo CouchDB server could not create the database ${db} (HTTP ${res.status}).`,
        );
      // admin-only, as CouchDB 3 creates databases: other local users cannot read the demo data anonymously
      await client.send('PUT', `/${encodeURIComponent(db)}/_security`, {
        admins: { names: [], roles: [] },
        members: { names: [], roles: ['_admin'] },
      });
    }

    let marker: SeedMarker | null = existsSync(markerFile)
      ? (JSON.parse(readFileSync(markerFile, 'utf8')) as SeedMarker)
      : null;
    let didSeed = false;
    if (!marker) {
      const docs = o.docs ?? DEFAULT_DOCS;
      const seed = o.seed ?? DEFAULT_SEED;
      logger.info('seeding the demo CouchDB server with synthetic CHT data', { docs, seed });
      // new_edits:false makes a re-run after an interrupted seed idempotent: same ids, same revs
      const result = await seedCouch(url, auth, generateChtDocs({ seed, docs }));
      marker = { seed, docs, counts: result.counts, seededAt: new Date().toISOString() };
      writeFileSync(markerFile, JSON.stringify(marker, null, 2));
      didSeed = true;
      logger.info('demo data seeded', { counts: result.counts, seconds: Math.round(result.seconds * 10) / 10 });
    }
    logger.info('demo CouchDB server started', { url, port });
    return {
      url,
      username: auth.username,
      password: auth.password,
      databases: [...CHT_DATABASES],
      port,
      seeded: marker.counts,
      didSeed,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    anonymous.close();
    client.close();
  }
}

async function waitUntilUp(
  anonymous: CouchClient,
  url: string,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await anonymous.get('/', { timeoutMs: 2000 });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null)
      throw new EngineError(
        'COUCH_UNREACHABLE',
        `The demo CouchDB server (pouchdb-server) exited during start: ${stderr().slice(-500)}`,
      );
    if (Date.now() > deadline)
      throw new EngineError(
        'COUCH_UNREACHABLE',
        `The demo CouchDB server did not answer on ${url} within 30 s: ${stderr().slice(-500)}`,
        { retryable: true },
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops a pouchdb-server left running on our data by a killed app — only when /proc shows it is ours. */
async function stopOrphan(pid: number, dir: string, logger: Logger): Promise<void> {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // gone, or no /proc on this platform
  }
  if (!cmdline.includes('pouchdb-server') || !cmdline.includes(dir)) return;
  logger.warn('stopping a demo CouchDB server left running by an earlier run', { pid });
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50; i++) {
    if (!existsSync(`/proc/${pid}`)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
