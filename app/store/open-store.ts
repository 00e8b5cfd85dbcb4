import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { EngineError } from '../core/engine-error';
import { checkpointsRepo, type CheckpointStore } from './checkpoints-repo';
import { migrate } from './migrate';
import { MIGRATIONS } from './migrations';
import type { Migration } from './migrations/migration';
import { modelsRepo, type ModelsRepo } from './models-repo';
import { runsRepo, type RunsRepo } from './runs-repo';
import { fileSecretStore, type SecretStore } from './secret-store';
import { settingsRepo, type SettingsRepo } from './settings-repo';

export interface Store {
  file: string;
  settings: SettingsRepo;
  secrets: SecretStore;
  checkpoints: CheckpointStore & {
    all(): { source: string; seq: string; pending: number | null; updatedAt: string }[];
  };
  runs: RunsRepo;
  models: ModelsRepo;
  close(): void;
}

export interface OpenStoreOptions {
  /** Desktop: a safeStorage-backed store. Default: secrets.json (0600) next to the database file. */
  secretStore?: SecretStore;
  /** Tests only: a different migration list. */
  migrations?: readonly Migration[];
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) the app's own state: `<dataDir>/state.sqlite`.
 * WAL so readers never block the writer; a busy timeout so the CLI and the
 * desktop app can share the file. Nothing outside app/store touches the handle.
 */
export function openStore(file: string, options: OpenStoreOptions = {}): Store {
  mkdirSync(path.dirname(file), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file);
  } catch (error) {
    throw new EngineError(
      'STORE',
      `Cannot open the app state file ${file}: ${(error as Error).message}. Check the data folder is writable (--data-dir / CHT_SYNC_DATA_DIR).`,
      { cause: error },
    );
  }
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, options.migrations ?? MIGRATIONS, file);
  } catch (error) {
    db.close();
    if (error instanceof EngineError) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new EngineError(
        'STORE',
        `The app state file ${file} is damaged (${code}). Move it aside (the synced data in PostgreSQL is not affected; run history and settings start afresh), or use a different data folder (--data-dir / CHT_SYNC_DATA_DIR).`,
        { cause: error },
      );
    }
    if (code === 'SQLITE_BUSY') {
      throw new EngineError(
        'STORE',
        `The app state file ${file} stayed locked by another CHT Sync process. Try again when it is idle.`,
        { retryable: true, cause: error },
      );
    }
    throw new EngineError('STORE', `The app state file ${file} could not be prepared: ${(error as Error).message}.`, {
      cause: error,
    });
  }
  let isClosed = false;
  return {
    file,
    settings: settingsRepo(db),
    secrets: options.secretStore ?? fileSecretStore(path.dirname(file)),
    checkpoints: checkpointsRepo(db),
    runs: runsRepo(db),
    models: modelsRepo(db),
    close() {
      if (isClosed) return;
      isClosed = true;
      db.close();
    },
  };
}

/** The store file inside a data folder. */
export function storeFile(dataDir: string): string {
  return path.join(dataDir, 'state.sqlite');
}
