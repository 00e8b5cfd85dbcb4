import type pg from 'pg';
import type { SyncProgress, SyncState } from '../contract/dto';
import type { Logger } from '../core/logger';
import type { ChangesSource, CheckpointStore, RawSink } from './ports';
import type { RetryPolicy } from './state-machine';

export type SyncEvent =
  | { type: 'state'; database: string; source: string; state: SyncState }
  | ({ type: 'progress'; source: string; isPendingEstimate: boolean } & SyncProgress)
  | {
      type: 'batch';
      database: string;
      source: string;
      docs: number;
      deletes: number;
      skipped: number;
      bytes: number;
      seconds: number;
      seq: string | null;
    };

export interface SyncOptions {
  /** `trustedFingerprint256`: accept this self-signed certificate (SHA-256, as preflight reports it). */
  couch: { url: string; username?: string; password?: string; trustedFingerprint256?: string };
  databases: string[];
  /** The caller owns it; each database stream holds one connection while it runs. */
  pool: pg.Pool;
  schema: string;
  table: string;
  batchSize: number;
  maxBatchBytes: number;
  /** Written after each batch's PostgreSQL transaction commits (PostgreSQL stays the source of truth). */
  checkpoints: CheckpointStore;
  logger: Logger;
  signal?: AbortSignal;
  onEvent?: (event: SyncEvent) => void;
  /** For `once`: report `timeout` for databases that did not reach the end by then. */
  timeoutSeconds?: number;
  /** Advanced / tests: replace the adapters or tune timings. */
  sourceFactory?: (database: string) => ChangesSource;
  sinkFactory?: (database: string) => RawSink;
  retryPolicy?: RetryPolicy;
  /** Continuous-feed heartbeat (default 10 s); quiet spell that flushes a live batch (default 200 ms). */
  heartbeatMs?: number;
  quietMs?: number;
  /** Idle timeout of a normal-feed request (default 60 s). */
  requestTimeoutMs?: number;
  /**
   * Place `_id`s: only their subtrees' documents travel (app/scope), filtered on the server.
   * Empty or absent: everything.
   */
  scope?: readonly string[];
}
