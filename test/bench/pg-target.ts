import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { removeEmbeddedCluster, startEmbeddedPostgres } from '../../app/postgres/embedded';

/**
 * The PostgreSQL the bench writes to: CHT_SYNC_BENCH_PG_URL, else CHT_SYNC_TEST_PG_URL, else the
 * machine's server at 127.0.0.1:5432 when it answers, else an embedded one started here.
 * The bench works in a database of its own, dropped at the end.
 */
export interface BenchPostgres {
  url: string;
  label: string;
  version: string;
  close(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function benchPostgres(): Promise<BenchPostgres> {
  let adminUrl = process.env.CHT_SYNC_BENCH_PG_URL ?? process.env.CHT_SYNC_TEST_PG_URL ?? null;
  let label = adminUrl ? (process.env.CHT_SYNC_BENCH_PG_URL ? 'CHT_SYNC_BENCH_PG_URL' : 'CHT_SYNC_TEST_PG_URL') : '';
  let stopEmbedded: (() => Promise<void>) | null = null;
  if (!adminUrl && (await answers('postgres://postgres@127.0.0.1:5432/postgres'))) {
    adminUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
    label = 'machine (127.0.0.1:5432)';
  }
  if (!adminUrl) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'cht-bench-pg-'));
    const embedded = await startEmbeddedPostgres(dataDir);
    adminUrl = embedded.url;
    label = 'embedded';
    stopEmbedded = async () => {
      await embedded.stop();
      rmSync(dataDir, { recursive: true, force: true });
      removeEmbeddedCluster(embedded.clusterDir);
    };
  }
  const name = `cht_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const version = (await admin.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? '?';
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    label: `${label}, PostgreSQL ${version}`,
    version,
    async close() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await c.end();
      await stopEmbedded?.();
    },
  };
}
