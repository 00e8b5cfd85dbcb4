import { safeUrl } from '../../core/redact';
import { openStore, storeFile } from '../../store';
import { sourceFor } from '../../sync';
import type { CliContext } from '../context';
import { EXIT } from '../exit-codes';
import { ago, count, shortSeq, table } from '../output';

/**
 * `cht-sync status`: from the app's own state only (no server is contacted):
 * per database the last committed seq, pending, and its last run.
 */
export async function statusCommand(ctx: CliContext): Promise<number> {
  const store = openStore(storeFile(ctx.dataDir));
  try {
    const couch = ctx.config.couch;
    const checkpoints = store.checkpoints.all();
    const recent = store.runs.list({ kind: 'sync', limit: 50 });
    const details = recent.map((r) => store.runs.get(r.id)).filter((d) => d !== null);
    const rows = couch
      ? couch.databases.map((database) => ({ database, source: sourceFor(couch.url, database) }))
      : checkpoints.map((c) => ({ database: c.source.split('/').pop() ?? c.source, source: c.source }));
    const databases = rows.map(({ database, source }) => {
      const checkpoint = store.checkpoints.get(source);
      const run = details.find((d) => d.databases?.some((x) => x.source === source || x.database === database));
      const row = run?.databases?.find((x) => x.source === source || x.database === database);
      return {
        database,
        source,
        seq: checkpoint?.seq ?? null,
        seqShort: checkpoint ? shortSeq(checkpoint.seq) : null,
        pending: checkpoint?.pending ?? null,
        checkpointAt: checkpoint?.updatedAt ?? null,
        lastRun: run && row ? { id: run.id, outcome: row.outcome, finishedAt: run.finishedAt, docs: row.docs, error: row.error?.message ?? null } : null,
      };
    });
    const runs = store.runs.list({ limit: 5 });
    const postgres = ctx.config.postgres.kind === 'embedded' ? { kind: 'embedded' as const } : { kind: 'external' as const, url: safeUrl(ctx.config.postgres.url) };
    if (ctx.isJson) {
      ctx.io.stdout(
        JSON.stringify(
          {
            dataDir: ctx.dataDir,
            couch: couch ? { url: couch.url, username: couch.username ?? null, databases: couch.databases } : null,
            postgres,
            schema: ctx.config.schema,
            table: ctx.config.table,
            databases,
            recentRuns: runs,
          },
          null,
          2,
        ),
      );
      return EXIT.ok;
    }
    ctx.say(`Data folder: ${ctx.dataDir}`);
    ctx.say(`CouchDB: ${couch ? `${couch.url}${couch.username ? ` (user ${couch.username})` : ''}` : 'not configured'}`);
    ctx.say(`PostgreSQL: ${postgres.kind === 'embedded' ? 'embedded' : postgres.url} → ${ctx.config.schema}.${ctx.config.table}`);
    ctx.say('');
    if (databases.length === 0) {
      ctx.say('Nothing synced yet. Run `cht-sync sync --once`.');
    } else {
      ctx.say(
        table(
          ['DATABASE', 'LAST SEQ', 'PENDING', 'LAST RUN', 'OUTCOME'],
          databases.map((d) => [
            d.database,
            d.seqShort ?? '-',
            d.pending === null ? '-' : count(d.pending),
            d.lastRun ? `#${d.lastRun.id} ${ago(d.lastRun.finishedAt)}` : 'never',
            d.lastRun?.outcome ?? '-',
          ]),
          ['l', 'l', 'r', 'l', 'l'],
        ),
      );
      for (const d of databases) if (d.lastRun?.error) ctx.say(`${d.database}: ${d.lastRun.error}`);
    }
    if (runs.length) {
      ctx.say('');
      ctx.say('Recent runs:');
      for (const r of runs) ctx.say(`  #${r.id} ${r.kind} ${r.outcome} ${ago(r.finishedAt ?? r.startedAt)}: ${r.summary}`);
    }
    return EXIT.ok;
  } finally {
    store.close();
  }
}
