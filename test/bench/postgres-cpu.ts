import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

/**
 * CPU seconds used so far by this host's PostgreSQL processes (the postmaster's reaped children
 * included), read from /proc — so a run's PostgreSQL cost can be shown next to the client's.
 * Null when it cannot be known: not Linux, or the bench's server is not on this host.
 */
export function postgresCpuReader(url: string): (() => number) | null {
  const host = new URL(url).hostname;
  if (process.platform !== 'linux' || !['127.0.0.1', 'localhost', '[::1]', ''].includes(host)) return null;
  return () => {
    let ticks = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      // fields after the command: state is field 3; utime, stime, cutime, cstime are fields 14–17
      const fields = stat.slice(close + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    }
    return ticks / 100; // USER_HZ
  };
}

/**
 * Before a measured run: earlier runs' tables dropped, dirty pages flushed, no autovacuum busy
 * in the bench database — so a run does not pay for the one before it.
 */
export async function settlePostgres(url: string, dropSchemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of dropSchemas) await client.query(`drop schema if exists "${schema}" cascade`);
    await client.query('checkpoint').catch(() => undefined); // needs superuser or pg_checkpoint; best effort
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const busy = await client.query<{ n: string }>(
        "select count(*) as n from pg_stat_activity where backend_type = 'autovacuum worker' and datname = current_database()",
      );
      if (Number(busy.rows[0]?.n ?? 0) === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await client.end();
  }
}
