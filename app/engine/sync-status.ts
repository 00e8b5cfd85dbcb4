import type { DatabaseRunResult, DatabaseStatus, RunOutcome, SyncProgress, SyncState } from '../contract';

/**
 * The per-database status the dashboard shows, fed by the sync engine's state
 * and progress events and by finished runs. The state comes from the state
 * machine as is (`state.kind`); nothing here derives a state from booleans.
 */
export class SyncStatusBoard {
  private readonly rows = new Map<string, DatabaseStatus>();

  constructor(private readonly sourceOf: (database: string) => string) {}

  /** Keeps exactly the configured databases, in order; unknown ones start idle. */
  configure(databases: string[], seed: (database: string, source: string) => Partial<DatabaseStatus>): void {
    const next = new Map<string, DatabaseStatus>();
    for (const database of databases) {
      const source = this.sourceOf(database);
      const existing = this.rows.get(database);
      next.set(
        database,
        existing && existing.source === source
          ? existing
          : {
              database,
              source,
              state: { kind: 'idle', since: new Date().toISOString() },
              seqShort: null,
              pending: null,
              docsPerSecond: null,
              etaSeconds: null,
              lastSuccessAt: null,
              lastRun: null,
              ...seed(database, source),
            },
      );
    }
    this.rows.clear();
    for (const [k, v] of next) this.rows.set(k, v);
  }

  list(): DatabaseStatus[] {
    return [...this.rows.values()].map((row) => ({ ...row }));
  }

  get(database: string): DatabaseStatus | undefined {
    return this.rows.get(database);
  }

  setState(database: string, state: SyncState): boolean {
    const row = this.rows.get(database);
    if (!row) return false;
    row.state = state;
    if (state.kind !== 'catching-up' && state.kind !== 'live') {
      row.docsPerSecond = null;
      row.etaSeconds = null;
    }
    return true;
  }

  setAll(state: (database: string) => SyncState | null): void {
    for (const row of this.rows.values()) {
      const next = state(row.database);
      if (next) this.setState(row.database, next);
    }
  }

  progress(p: SyncProgress): void {
    const row = this.rows.get(p.database);
    if (!row) return;
    row.pending = p.pending;
    row.docsPerSecond = p.docsPerSecond;
    row.etaSeconds = p.etaSeconds;
  }

  checkpoint(database: string, seq: string | null, pending: number | null): void {
    const row = this.rows.get(database);
    if (!row) return;
    if (seq !== null) row.seqShort = shortSeq(seq);
    if (pending !== null) row.pending = pending;
  }

  runFinished(runId: number, finishedAt: string, databases: DatabaseRunResult[]): void {
    for (const result of databases) {
      const row = this.rows.get(result.database);
      if (!row) continue;
      row.lastRun = { runId, outcome: result.outcome, finishedAt };
      if (result.outcome === 'done' || result.reachedEnd) row.lastSuccessAt = finishedAt;
      if (result.seqAfter) row.seqShort = shortSeq(result.seqAfter);
    }
  }
}

/** Opaque seqs are shortened for display only: CouchDB's are ~100 characters. */
export function shortSeq(seq: string): string {
  if (seq.length <= 16) return seq;
  return `${seq.slice(0, 12)}…`;
}

/** The overall outcome of several parts: the worst part decides, with 'partial' when some succeeded. */
export function combineOutcomes(parts: RunOutcome[]): RunOutcome {
  if (parts.length === 0) return 'done';
  if (parts.every((p) => p === 'done')) return 'done';
  const failedKinds = parts.filter((p) => p !== 'done');
  if (failedKinds.length < parts.length) return 'partial';
  const first = failedKinds[0]!;
  return failedKinds.every((p) => p === first) ? first : 'partial';
}
