import type pg from 'pg';
import type {
  CouchTestResult,
  ModelRunResult,
  PipelineSetting,
  PostgresTestResult,
  SyncProgress,
  SyncRunResult,
  SyncState,
  TransformRunResult,
} from '../contract';
import type { Logger } from '../core/logger';
import type { EmbeddedPostgresHandle } from '../postgres/embedded';

/**
 * The engine's view of the stage modules it composes (app/sync, app/transform,
 * app/preflight, app/demo, app/config, app/postgres). Written as structural
 * ports so tests can substitute one part and so the composition root states
 * exactly what it depends on; default-modules.ts binds the real ones.
 */
export interface CheckpointPort {
  get(source: string): { seq: string; pending: number | null; updatedAt: string } | null;
  set(source: string, seq: string, pending: number | null): void;
}

export type SyncEvent =
  | { type: 'state'; database: string; state: SyncState }
  | ({ type: 'progress' } & SyncProgress)
  | { type: 'batch'; database: string; docs: number; [key: string]: unknown };

export interface SyncOptions {
  couch: { url: string; username?: string; password?: string };
  databases: string[];
  pool: pg.Pool;
  schema: string;
  table: string;
  batchSize: number;
  maxBatchBytes: number;
  checkpoints: CheckpointPort;
  logger: Logger;
  signal?: AbortSignal;
  onEvent?: (event: SyncEvent) => void;
  timeoutSeconds?: number;
}

export interface TransformOptions {
  project: PipelineSetting | { kind: 'path'; path: string };
  cacheDir: string;
  pool: pg.Pool;
  database: string;
  schema: string;
  table: string;
  select?: string[];
  exclude?: string[];
  fullRefresh?: boolean;
  vars?: Record<string, unknown>;
  threads?: number;
  previousFingerprints?: Map<string, string>;
  env?: Record<string, string>;
  logger: Logger;
  signal?: AbortSignal;
  onModelFinished?: (m: ModelRunResult) => void;
}

export interface DemoCouchHandle {
  url: string;
  username: string;
  password: string;
  databases: string[];
  stop(): Promise<void>;
}

export interface EngineModules {
  syncOnce(o: SyncOptions): Promise<Omit<SyncRunResult, 'runId'>>;
  syncFollow(o: SyncOptions): Promise<Omit<SyncRunResult, 'runId'>>;
  sourceFor(couchUrl: string, database: string): string;
  runTransform(o: TransformOptions): Promise<{ result: Omit<TransformRunResult, 'runId'>; fingerprints: Map<string, string> }>;
  probeCouch(c: { url: string; username?: string; password?: string }, opts?: { timeoutMs?: number }): Promise<CouchTestResult>;
  probePostgres(url: string): Promise<PostgresTestResult>;
  /** COUCH_DB_MISSING (with the near miss) when one does not exist. */
  checkDatabases(c: { url: string; username?: string; password?: string }, databases: string[], opts?: { timeoutMs?: number }): Promise<void>;
  couchGet(c: { url: string; username?: string; password?: string }, pathname: string, opts?: { timeoutMs?: number }): Promise<{ status: number; json: unknown }>;
  startDemoCouch(o: { dataDir: string; docs?: number; port?: number; logger: Logger }): Promise<DemoCouchHandle>;
  startEmbeddedPostgres(dataDir: string, o?: { logger?: Logger }): Promise<EmbeddedPostgresHandle>;
}
