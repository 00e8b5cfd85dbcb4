import { safeUrl } from '../../core/redact';
import { openEngine } from '../common';
import type { CliContext } from '../context';
import { EXIT } from '../exit-codes';
import { ago, count, table } from '../output';

/**
 * `cht-sync status`: from the app's own state only (no server is contacted):
 * per database the last committed seq, pending, and its last run.
 */
export async function statusCommand(ctx: CliContext): Promise<number> {
  const engine = await openEngine(ctx, 'in-process', { isObserver: true });
  try {
    const config = engine.config();
    const couch = config.couch;
    const databases = await engine.handlers['sync.checkpoints']({});
    const runs = await engine.handlers['runs.list']({ limit: 5 });
    const postgres =
      config.postgres.kind === 'embedded'
        ? { kind: 'embedded' as const }
        : { kind: 'external' as const, url: safeUrl(config.postgres.url) };
    if (ctx.isJson) {
      ctx.io.stdout(
        JSON.stringify(
          {
            dataDir: ctx.dataDir,
            couch: couch ? { url: couch.url, username: couch.username ?? null, databases: couch.databases } : null,
            postgres,
            schema: config.schema,
            table: config.table,
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
    ctx.say(
      `CouchDB: ${couch ? `${couch.url}${couch.username ? ` (user ${couch.username})` : ''}` : 'not configured'}`,
    );
    ctx.say(
      `PostgreSQL: ${postgres.kind === 'embedded' ? 'embedded' : postgres.url} → ${config.schema}.${config.table}`,
    );
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
      for (const r of runs)
        ctx.say(`  #${r.id} ${r.kind} ${r.outcome} ${ago(r.finishedAt ?? r.startedAt)}: ${r.summary}`);
    }
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}
