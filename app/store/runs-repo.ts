import type Database from 'better-sqlite3';
import type {
  DatabaseRunResult,
  ModelRunResult,
  RunDetail,
  RunKind,
  RunOutcome,
  RunSummary,
  SyncRunResult,
  TransformRunResult,
  VerifyDatabaseResult,
  VerifyRunResult,
} from '../contract/dto';
import type { WireError } from '../contract/errors';
import { EngineError } from '../core/engine-error';

export interface RunsFilter {
  kind?: RunKind;
  outcome?: RunOutcome;
  limit: number;
  beforeId?: number;
}

export interface RunsRepo {
  /** Records a run as 'running' (committed at once, so a crash leaves a trace); returns its id. */
  start(kind: RunKind, trigger: RunSummary['trigger']): number;
  finishSync(id: number, result: Omit<SyncRunResult, 'runId'>): RunSummary;
  finishTransform(id: number, result: Omit<TransformRunResult, 'runId'>): RunSummary;
  finishVerify(id: number, result: Omit<VerifyRunResult, 'runId'>): RunSummary;
  /** Ends a run that failed before it produced per-part results (e.g. validation). */
  fail(id: number, outcome: RunOutcome, error: WireError): RunSummary;
  list(filter: RunsFilter): RunSummary[];
  get(id: number): RunDetail | null;
  /** Runs left 'running' by a crash or a forced exit become 'failed' with a reason. Call once at start. */
  markInterrupted(): number;
  /** Per finished sync run and database: for the throughput chart. */
  throughput(sinceIso: string): { at: string; database: string; docs: number; seconds: number }[];
}

interface RunRow {
  id: number;
  kind: RunKind;
  trigger: RunSummary['trigger'];
  outcome: RunOutcome;
  started_at: string;
  finished_at: string | null;
  count: number;
  error_count: number;
  summary: string;
  project: string | null;
  warnings_json: string | null;
  error_json: string | null;
  details_json: string | null;
}

interface DatabaseRow {
  database: string;
  source: string;
  outcome: RunOutcome;
  docs: number;
  deletes: number;
  bytes: number;
  seconds: number;
  seq_before: string | null;
  seq_after: string | null;
  reached_end: number;
  error_json: string | null;
}

interface ModelRow {
  unique_id: string;
  model: string;
  materialized: string;
  status: ModelRunResult['status'];
  rows_affected: number | null;
  seconds: number;
  refresh_reason: string | null;
  skipped_because: string | null;
  error_json: string | null;
  test_json: string | null;
}

/** What only seeds, snapshots and tests carry (kept as JSON in run_models.test_json). */
const NODE_EXTRAS = ['resourceType', 'description', 'failures', 'message', 'failingRows', 'failingSql'] as const;

function nodeExtras(m: ModelRunResult): string | null {
  const out: Record<string, unknown> = {};
  for (const k of NODE_EXTRAS) if (m[k] !== undefined) out[k] = m[k];
  return Object.keys(out).length ? JSON.stringify(out) : null;
}

export function runsRepo(db: Database.Database): RunsRepo {
  const insertRun = db.prepare('insert into runs (kind, trigger, outcome, started_at, pid) values (?, ?, ?, ?, ?)');
  const selectRun = db.prepare('select * from runs where id = ?');
  const updateRun = db.prepare(
    `update runs set outcome = @outcome, started_at = @started_at, finished_at = @finished_at, count = @count,
       error_count = @error_count, summary = @summary, project = @project, warnings_json = @warnings_json, error_json = @error_json
     where id = @id`,
  );
  const setDetails = db.prepare('update runs set details_json = ? where id = ?');
  const insertDatabase = db.prepare(
    `insert into run_databases (run_id, position, database, source, outcome, docs, deletes, bytes, seconds, seq_before, seq_after, reached_end, error_json)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertSkipped = db.prepare(
    'insert into run_skipped_docs (run_id, database, position, doc_id, reason) values (?, ?, ?, ?, ?)',
  );
  const insertModel = db.prepare(
    `insert into run_models (run_id, position, unique_id, model, materialized, status, rows_affected, seconds, refresh_reason, skipped_because, error_json, test_json)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const deleteChildren = [
    db.prepare('delete from run_databases where run_id = ?'),
    db.prepare('delete from run_skipped_docs where run_id = ?'),
    db.prepare('delete from run_models where run_id = ?'),
  ];
  const selectDatabases = db.prepare('select * from run_databases where run_id = ? order by position');
  const selectSkipped = db.prepare(
    'select database, doc_id, reason from run_skipped_docs where run_id = ? order by database, position',
  );
  const selectModels = db.prepare('select * from run_models where run_id = ? order by position');

  const requireRunning = (id: number): RunRow => {
    const row = selectRun.get(id) as RunRow | undefined;
    if (!row) throw new EngineError('NOT_FOUND', `Run ${id} does not exist in the run history.`);
    return row;
  };

  const finishSync = db.transaction((id: number, result: Omit<SyncRunResult, 'runId'>): RunSummary => {
    const row = requireRunning(id);
    for (const stmt of deleteChildren) stmt.run(id);
    result.databases.forEach((d, position) => {
      insertDatabase.run(
        id,
        position,
        d.database,
        d.source,
        d.outcome,
        d.docs,
        d.deletes,
        d.bytes,
        d.seconds,
        d.seqBefore,
        d.seqAfter,
        d.reachedEnd ? 1 : 0,
        d.error ? JSON.stringify(d.error) : null,
      );
      d.skipped.forEach((s, i) => insertSkipped.run(id, d.database, i, s.id, s.reason));
    });
    const docs = result.databases.reduce((n, d) => n + d.docs, 0);
    const deletes = result.databases.reduce((n, d) => n + d.deletes, 0);
    const skipped = result.databases.reduce((n, d) => n + d.skipped.length, 0);
    const failed = result.databases.filter((d) => d.error !== undefined || !['done', 'running'].includes(d.outcome));
    const parts = [
      `${plural(result.databases.length, 'database')}`,
      `${plural(docs, 'doc')}${deletes ? ` (${deletes} deleted)` : ''}`,
    ];
    if (skipped) parts.push(`${skipped} skipped`);
    if (failed.length) parts.push(`${failed.map((d) => `${d.database}: ${d.outcome}`).join(', ')}`);
    const firstError = failed.find((d) => d.error)?.error ?? null;
    updateRun.run({
      id,
      outcome: result.outcome,
      started_at: result.startedAt || row.started_at,
      finished_at: result.finishedAt,
      count: docs,
      error_count: failed.length + skipped,
      summary: parts.join(', '),
      project: null,
      warnings_json: null,
      error_json: firstError ? JSON.stringify(firstError) : null,
    });
    return toSummary(requireRunning(id));
  });

  const finishTransform = db.transaction((id: number, result: Omit<TransformRunResult, 'runId'>): RunSummary => {
    const row = requireRunning(id);
    for (const stmt of deleteChildren) stmt.run(id);
    result.models.forEach((m, position) => {
      insertModel.run(
        id,
        position,
        m.uniqueId,
        m.model,
        m.materialized,
        m.status,
        m.rowsAffected,
        m.seconds,
        m.refreshReason ?? null,
        m.skippedBecause ?? null,
        m.error ? JSON.stringify(m.error) : null,
        nodeExtras(m),
      );
    });
    // Tests count as succeeded when they pass (or only warn), failed when they fail or error.
    const succeeded = result.models.filter(
      (m) => m.status === 'success' || m.status === 'pass' || m.status === 'warn',
    ).length;
    const errored = result.models.filter((m) => m.status === 'error' || m.status === 'fail');
    const skipped = result.models.filter((m) => m.status === 'skipped').length;
    const noun = result.models.some((m) => m.resourceType !== undefined) ? 'node' : 'model';
    const parts = [`${plural(result.models.length, noun)}: ${succeeded} succeeded`];
    if (errored.length)
      parts.push(
        `${errored.length} failed (${errored
          .slice(0, 3)
          .map((m) => m.model)
          .join(', ')}${errored.length > 3 ? ', …' : ''})`,
      );
    if (skipped) parts.push(`${skipped} skipped`);
    updateRun.run({
      id,
      outcome: result.outcome,
      started_at: result.startedAt || row.started_at,
      finished_at: result.finishedAt,
      count: succeeded,
      error_count: errored.length,
      summary: parts.join(', '),
      project: result.project,
      warnings_json: JSON.stringify(result.warnings),
      error_json: errored[0]?.error ? JSON.stringify(errored[0].error) : null,
    });
    return toSummary(requireRunning(id));
  });

  const finishVerify = db.transaction((id: number, result: Omit<VerifyRunResult, 'runId'>): RunSummary => {
    const row = requireRunning(id);
    const sum = (k: 'missing' | 'stale' | 'purged' | 'outOfScope' | 'fetched' | 'marked'): number =>
      result.databases.reduce((n, d) => n + d[k], 0);
    const found = sum('missing') + sum('stale') + sum('purged') + sum('outOfScope');
    const failed = result.databases.filter((d) => d.error !== undefined || d.outcome !== 'done');
    const parts = [`${plural(result.databases.length, 'database')}`];
    parts.push(
      found === 0
        ? 'nothing missing or extra'
        : [
            `${sum('missing')} missing`,
            `${sum('stale')} out of date`,
            `${sum('purged')} gone from the server`,
            ...(sum('outOfScope') ? [`${sum('outOfScope')} out of the scope`] : []),
          ].join(', '),
    );
    if (result.isFix && found > 0) parts.push(`fixed: ${sum('fetched')} fetched, ${sum('marked')} marked deleted`);
    if (failed.length) parts.push(failed.map((d) => `${d.database}: ${d.outcome}`).join(', '));
    const firstError = failed.find((d) => d.error)?.error ?? null;
    updateRun.run({
      id,
      outcome: result.outcome,
      started_at: result.startedAt || row.started_at,
      finished_at: result.finishedAt,
      count: found,
      error_count: failed.length,
      summary: parts.join(', '),
      project: null,
      warnings_json: null,
      error_json: firstError ? JSON.stringify(firstError) : null,
    });
    setDetails.run(JSON.stringify(result.databases), id);
    return toSummary(requireRunning(id));
  });

  return {
    start(kind, trigger) {
      return Number(insertRun.run(kind, trigger, 'running', new Date().toISOString(), process.pid).lastInsertRowid);
    },
    finishSync: (id, result) => finishSync(id, result),
    finishTransform: (id, result) => finishTransform(id, result),
    finishVerify: (id, result) => finishVerify(id, result),
    fail(id, outcome, error) {
      const row = requireRunning(id);
      updateRun.run({
        id,
        outcome,
        started_at: row.started_at,
        finished_at: new Date().toISOString(),
        count: 0,
        error_count: 1,
        summary: error.message.slice(0, 200),
        project: row.project,
        warnings_json: row.warnings_json,
        error_json: JSON.stringify(error),
      });
      return toSummary(requireRunning(id));
    },
    list(filter) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (filter.kind) {
        where.push('kind = ?');
        params.push(filter.kind);
      }
      if (filter.outcome) {
        where.push('outcome = ?');
        params.push(filter.outcome);
      }
      if (filter.beforeId !== undefined) {
        where.push('id < ?');
        params.push(filter.beforeId);
      }
      const sql = `select * from runs ${where.length ? `where ${where.join(' and ')}` : ''} order by id desc limit ?`;
      return (db.prepare(sql).all(...params, filter.limit) as RunRow[]).map(toSummary);
    },
    get(id) {
      const row = selectRun.get(id) as RunRow | undefined;
      if (!row) return null;
      const detail: RunDetail = toSummary(row);
      if (row.error_json) detail.error = JSON.parse(row.error_json) as WireError;
      if (row.kind === 'verify') {
        detail.verify = row.details_json ? (JSON.parse(row.details_json) as VerifyDatabaseResult[]) : [];
      } else if (row.kind === 'sync') {
        const skipped = selectSkipped.all(id) as { database: string; doc_id: string; reason: string }[];
        detail.databases = (selectDatabases.all(id) as DatabaseRow[]).map((d) => {
          const out: DatabaseRunResult = {
            database: d.database,
            source: d.source,
            outcome: d.outcome,
            docs: d.docs,
            deletes: d.deletes,
            skipped: skipped.filter((s) => s.database === d.database).map((s) => ({ id: s.doc_id, reason: s.reason })),
            bytes: d.bytes,
            seconds: d.seconds,
            seqBefore: d.seq_before,
            seqAfter: d.seq_after,
            reachedEnd: d.reached_end === 1,
          };
          if (d.error_json) out.error = JSON.parse(d.error_json) as WireError;
          return out;
        });
      } else {
        detail.warnings = row.warnings_json ? (JSON.parse(row.warnings_json) as string[]) : [];
        detail.models = (selectModels.all(id) as ModelRow[]).map((m) => {
          const out: ModelRunResult = {
            model: m.model,
            uniqueId: m.unique_id,
            materialized: m.materialized,
            status: m.status,
            rowsAffected: m.rows_affected,
            seconds: m.seconds,
          };
          if (m.refresh_reason !== null) out.refreshReason = m.refresh_reason;
          if (m.skipped_because !== null) out.skippedBecause = m.skipped_because;
          if (m.error_json) out.error = JSON.parse(m.error_json) as NonNullable<ModelRunResult['error']>;
          if (m.test_json) Object.assign(out, JSON.parse(m.test_json) as Partial<ModelRunResult>);
          return out;
        });
      }
      return detail;
    },
    markInterrupted() {
      const error: WireError = {
        code: 'CANCELLED',
        message:
          'The app stopped before this run finished (closed, killed or crashed). The next run resumes from the last committed checkpoint.',
        retryable: true,
      };
      // Another live process (the desktop app while the CLI starts) may own a running row: leave it.
      const running = db.prepare(`select id, pid from runs where outcome = 'running'`).all() as {
        id: number;
        pid: number | null;
      }[];
      const orphaned = running.filter((r) => r.pid === null || r.pid === process.pid || !isAlive(r.pid));
      const close = db.prepare(
        `update runs set outcome = 'failed', finished_at = coalesce(finished_at, ?), error_count = error_count + 1,
           summary = 'interrupted: the app stopped before the run finished', error_json = ?
         where id = ? and outcome = 'running'`,
      );
      const now = new Date().toISOString();
      const result = { changes: 0 };
      db.transaction(() => {
        for (const r of orphaned) result.changes += close.run(now, JSON.stringify(error), r.id).changes;
      })();
      return result.changes;
    },
    throughput(sinceIso) {
      return db
        .prepare(
          `select r.finished_at as at, d.database as database, d.docs as docs, d.seconds as seconds
           from run_databases d join runs r on r.id = d.run_id
           where r.kind = 'sync' and r.finished_at >= ? order by r.finished_at, d.position`,
        )
        .all(sinceIso) as { at: string; database: string; docs: number; seconds: number }[];
    },
  };
}

function toSummary(row: RunRow): RunSummary {
  return {
    id: row.id,
    kind: row.kind,
    trigger: row.trigger,
    outcome: row.outcome,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    count: row.count,
    errorCount: row.error_count,
    summary: row.summary,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
