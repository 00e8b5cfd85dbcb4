/**
 * Run as a child process by faults.test.ts, to be killed with SIGKILL in the middle of a run.
 * Prints one line per committed batch so the parent knows when to strike.
 */
import pg from 'pg';
import { silentLogger } from '../../../app/core/logger';
import { syncOnce } from '../../../app/engine/sync-wiring';
import { memoryCheckpoints } from './helpers';

async function main(): Promise<void> {
  const env = process.env;
  const pool = new pg.Pool({ connectionString: env.CHILD_PG_URL, max: 6 });
  pool.on('error', () => undefined);
  const result = await syncOnce({
    couch: { url: env.CHILD_COUCH_URL ?? '', username: env.CHILD_COUCH_USER, password: env.CHILD_COUCH_PASSWORD },
    databases: (env.CHILD_DBS ?? '').split(','),
    pool,
    schema: 'v1',
    table: 'couchdb',
    batchSize: Number(env.CHILD_BATCH ?? 50),
    maxBatchBytes: 16 * 1024 * 1024,
    checkpoints: memoryCheckpoints(),
    logger: silentLogger,
    onEvent: (e) => {
      if (e.type === 'batch') process.stdout.write(`batch ${e.database} ${e.docs}\n`);
    },
  });
  process.stdout.write(`done ${result.outcome}\n`);
  await pool.end();
}

void main();
