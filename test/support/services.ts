import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { removeEmbeddedCluster, startEmbeddedPostgres } from '../../app/postgres/embedded';
import { startPouchServer } from './pouchdb-server';

export interface TestServices {
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Start what the integration and e2e tests share, once per `npm test`. */
export async function startTestServices(): Promise<TestServices> {
  const stops: (() => Promise<void>)[] = [];
  const env: Record<string, string> = {};

  let pgUrl = process.env.CHT_SYNC_TEST_PG_URL;
  if (pgUrl) {
    await assertReachable(pgUrl);
    console.log(`tests use PostgreSQL from CHT_SYNC_TEST_PG_URL (${new URL(pgUrl).host})`);
  } else {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-test-pg-'));
    const embedded = await startEmbeddedPostgres(dataDir);
    pgUrl = embedded.url;
    console.log(`tests use an embedded PostgreSQL on port ${embedded.port}`);
    stops.push(async () => {
      await embedded.stop();
      rmSync(dataDir, { recursive: true, force: true });
      removeEmbeddedCluster(embedded.clusterDir);
    });
  }
  env.CHT_SYNC_TEST_PG_URL = pgUrl;

  const couch = await startPouchServer();
  env.CHT_SYNC_TEST_COUCH_URL = couch.url;
  env.CHT_SYNC_TEST_COUCH_ADMIN_URL = couch.adminUrl;
  stops.push(() => couch.stop());

  return {
    env,
    async stop() {
      for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error(e));
    },
  };
}

async function assertReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}
