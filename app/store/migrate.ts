import type Database from 'better-sqlite3';
import { EngineError } from '../core/engine-error';
import type { Migration } from './migrations/migration';

/**
 * Applies the known migrations that are missing, one transaction each.
 * Refuses a store whose applied list is not a prefix of the known list: that
 * folder was written by a newer (or different) build, and guessing would
 * corrupt it. Runs under BEGIN IMMEDIATE so two processes opening the same file
 * at once cannot both apply a step.
 */
export function migrate(db: Database.Database, known: readonly Migration[], file: string): { applied: number[] } {
  db.exec(`create table if not exists schema_migrations (
    version integer primary key,
    name text not null,
    applied_at text not null
  )`);
  const appliedNow: number[] = [];
  for (;;) {
    const step = db
      .transaction((): Migration | null => {
        const applied = db.prepare('select version, name from schema_migrations order by version').all() as {
          version: number;
          name: string;
        }[];
        assertPrefix(applied, known, file);
        const next = known[applied.length];
        if (!next) return null;
        db.exec(next.sql);
        db.prepare('insert into schema_migrations (version, name, applied_at) values (?, ?, ?)').run(
          next.version,
          next.name,
          new Date().toISOString(),
        );
        return next;
      })
      .immediate();
    if (!step) break;
    appliedNow.push(step.version);
  }
  return { applied: appliedNow };
}

function assertPrefix(applied: { version: number; name: string }[], known: readonly Migration[], file: string): void {
  for (const [index, row] of applied.entries()) {
    const expected = known[index];
    if (!expected) {
      throw new EngineError(
        'STORE',
        `The app state in ${file} was written by a newer version of CHT Sync Desktop (it has migration ${row.version} "${row.name}", this version knows up to ${known.length}). ` +
          'Update CHT Sync Desktop, or use a different data folder (--data-dir / CHT_SYNC_DATA_DIR).',
        { details: { file, applied: applied.map((a) => a.version), known: known.map((k) => k.version) } },
      );
    }
    if (expected.version !== row.version || expected.name !== row.name) {
      throw new EngineError(
        'STORE',
        `The app state in ${file} was written by a different version of CHT Sync Desktop (migration ${row.version} "${row.name}" where this version expects ${expected.version} "${expected.name}"). ` +
          'Use the version that created this data folder, or a different data folder (--data-dir / CHT_SYNC_DATA_DIR).',
        { details: { file } },
      );
    }
  }
}
