import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../app/postgres/embedded';

/**
 * A real CouchDB-protocol server for tests: pouchdb-server on a free loopback
 * port, with an admin so it is not in "admin party" mode (and so anonymous
 * requests get CouchDB's 401s). Read the pouchdb-server notes in
 * shared/reference/machine-notes.md before relying on a CouchDB behaviour.
 */
export interface PouchServer {
  /** Base URL with no credentials, e.g. http://127.0.0.1:5999 */
  url: string;
  /** Base URL with the admin's credentials. */
  adminUrl: string;
  port: number;
  username: string;
  password: string;
  stop(): Promise<void>;
  /** Stop and start again on the same port (leveldb keeps the data; in-memory loses it). */
  restart(): Promise<void>;
}

export const TEST_ADMIN = { username: 'admin', password: 'pass-for-tests' };

export async function startPouchServer(options: { inMemory?: boolean; port?: number } = {}): Promise<PouchServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(path.join(tmpdir(), 'cht-pouch-'));
  const bin = path.resolve('node_modules/pouchdb-server/bin/pouchdb-server');
  let child: ChildProcess | null = null;

  const launch = async (): Promise<void> => {
    const args = [
      bin,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--no-stdout-logs',
      '--config',
      path.join(dir, 'config.json'),
    ];
    if (options.inMemory ?? true) args.push('--in-memory');
    else args.push('--dir', dir);
    child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        if (res.ok) break;
      } catch {
        // not up yet
      }
      if (child.exitCode !== null) throw new Error(`pouchdb-server exited: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`pouchdb-server did not start on ${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // End "admin party". Harmless when the admin already exists (leveldb restart keeps config.json).
    // On a fresh server the admin does not exist yet, so credentials are refused (401): then
    // create it anonymously, as admin party allows.
    const putAdmin = (withAuth: boolean) =>
      fetch(`http://127.0.0.1:${port}/_config/admins/${TEST_ADMIN.username}`, {
        method: 'PUT',
        body: JSON.stringify(TEST_ADMIN.password),
        headers: {
          'content-type': 'application/json',
          ...(withAuth
            ? {
                authorization: `Basic ${Buffer.from(`${TEST_ADMIN.username}:${TEST_ADMIN.password}`).toString('base64')}`,
              }
            : {}),
        },
      });
    const withAuth = await putAdmin(true);
    if (withAuth.status === 401) {
      const anonymous = await putAdmin(false);
      if (!anonymous.ok) throw new Error(`pouchdb-server: could not create the test admin (HTTP ${anonymous.status})`);
    }
  };

  const kill = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };

  await launch();
  return {
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://${TEST_ADMIN.username}:${TEST_ADMIN.password}@127.0.0.1:${port}`,
    port,
    ...TEST_ADMIN,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await kill();
      await launch();
    },
  };
}

/** Basic-auth headers for the test admin. */
export function adminHeaders(): Record<string, string> {
  return {
    authorization: `Basic ${Buffer.from(`${TEST_ADMIN.username}:${TEST_ADMIN.password}`).toString('base64')}`,
    'content-type': 'application/json',
  };
}
