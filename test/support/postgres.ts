import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL for tests. `CHT_SYNC_TEST_PG_URL` is set by test/run-tests.ts: the
 * machine's server when CI names one, otherwise an embedded PostgreSQL started
 * for the run. Each test gets its own schema (or database) so files can run in parallel.
 */
export function testPostgresUrl(): string {
  const url = process.env.CHT_SYNC_TEST_PG_URL;
  if (!url) throw new Error('CHT_SYNC_TEST_PG_URL is not set: run tests through `npm test` (test/run-tests.ts)');
  return url;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** A fresh database on the test server, dropped by the returned cleanup. */
export async function createTestDatabase(prefix = 't'): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const adminUrl = testPostgresUrl();
  const name = uniqueName(prefix).toLowerCase();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        // pg's Pool.end() resolves once its clients are told to end, not once their sockets have
        // closed; a FORCE drop then terminates a connection that is still closing, and its client
        // reports "terminating connection due to administrator command" after the test has ended.
        // So give closing connections a moment (55006: still in use), and force only what stays.
        for (let attempt = 0; attempt < 20; attempt++) {
          try {
            await client.query(`drop database if exists "${name}"`);
            return;
          } catch (error) {
            if ((error as { code?: string }).code !== '55006') throw error;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
