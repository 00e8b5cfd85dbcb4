import type Database from 'better-sqlite3';

/**
 * The last committed position per source, mirrored from PostgreSQL's
 * couchdb_progress for status display. Also the sync engine's port: it writes
 * here only after the PostgreSQL transaction committed. The seq is opaque.
 */
export interface CheckpointStore {
  get(source: string): { seq: string; pending: number | null; updatedAt: string } | null;
  set(source: string, seq: string, pending: number | null): void;
}

export function checkpointsRepo(
  db: Database.Database,
): CheckpointStore & { all(): { source: string; seq: string; pending: number | null; updatedAt: string }[] } {
  const select = db.prepare('select seq, pending, updated_at from checkpoints where source = ?');
  const upsert = db.prepare(
    `insert into checkpoints (source, seq, pending, updated_at) values (?, ?, ?, ?)
     on conflict (source) do update set seq = excluded.seq, pending = excluded.pending, updated_at = excluded.updated_at`,
  );
  const selectAll = db.prepare('select source, seq, pending, updated_at from checkpoints order by source');
  return {
    get(source) {
      const row = select.get(source) as { seq: string; pending: number | null; updated_at: string } | undefined;
      return row ? { seq: row.seq, pending: row.pending, updatedAt: row.updated_at } : null;
    },
    set(source, seq, pending) {
      upsert.run(source, seq, pending, new Date().toISOString());
    },
    all() {
      return (selectAll.all() as { source: string; seq: string; pending: number | null; updated_at: string }[]).map(
        (r) => ({
          source: r.source,
          seq: r.seq,
          pending: r.pending,
          updatedAt: r.updated_at,
        }),
      );
    },
  };
}
