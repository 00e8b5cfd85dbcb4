import type { DatabaseCheckpoint } from '../../contract';
import type { HandlerTable } from '../types';
import { shortSeq } from '../sync-status';
import type { EngineParts } from './parts';

type SyncMethods = 'sync.status' | 'sync.checkpoints' | 'sync.runNow' | 'sync.pause' | 'sync.resume' | 'sync.verify';

/** Live status, the committed positions, a one-off sync, pause and resume. */
export function syncHandlers(parts: EngineParts): Pick<HandlerTable, SyncMethods> {
  const { status, sync, scheduler, verify } = parts;
  return {
    'sync.status': async () => status.list(),
    'sync.checkpoints': async () => checkpoints(parts),
    'sync.verify': async ({ fix, trigger }) => verify.verifyNow({ trigger: trigger ?? 'manual', fix: fix ?? false }),
    'sync.runNow': async ({ databases, timeoutSeconds }) => {
      const result = await sync.syncNow({
        trigger: 'manual',
        ...(databases ? { databases } : {}),
        ...(timeoutSeconds ? { timeoutSeconds } : {}),
      });
      // New rows are only useful once the analytics tables include them: build them next (a setting turns it off).
      const landed = result.databases.reduce((n, d) => n + d.docs + d.deletes, 0);
      if (landed > 0 && parts.ctx.store.settings.get().advanced.transformAfterSync !== false) {
        parts.transforms
          .whenFree({ trigger: 'manual' })
          .catch((error: unknown) => parts.ctx.logger.warn('the transforms after the sync failed', { error }));
      }
      return result;
    },
    'sync.pause': async () => {
      status.isPaused = true;
      sync.abort();
      await scheduler.stopParts();
      const since = new Date().toISOString();
      status.setAll(() => ({ kind: 'paused', since }));
      return status.list();
    },
    'sync.resume': async () => {
      if (status.isPaused) {
        status.isPaused = false;
        const since = new Date().toISOString();
        status.setAll((db) => (status.board.get(db)?.state.kind === 'paused' ? { kind: 'idle', since } : null));
        scheduler.startParts();
      }
      return status.list();
    },
  };
}

/** Per configured database (or per saved checkpoint when none is configured): its committed seq and last sync run. */
function checkpoints({ ctx, settings }: EngineParts): DatabaseCheckpoint[] {
  const { store, modules } = ctx;
  const couch = settings.current.couch;
  const recent = store.runs.list({ kind: 'sync', limit: 50 });
  const details = recent.map((r) => store.runs.get(r.id)).filter((d) => d !== null);
  const rows = couch
    ? couch.databases.map((database) => ({ database, source: modules.sourceFor(couch.url, database) }))
    : store.checkpoints.all().map((c) => ({ database: c.source.split('/').pop() ?? c.source, source: c.source }));
  return rows.map(({ database, source }) => {
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
      lastRun:
        run && row
          ? {
              id: run.id,
              outcome: row.outcome,
              finishedAt: run.finishedAt,
              docs: row.docs,
              error: row.error?.message ?? null,
            }
          : null,
    };
  });
}
