/**
 * The sync loop (ports only). Adapters are wired in by the engine's composition root
 * (app/engine/sync-wiring.ts), which also exports the ready-to-run syncOnce/syncFollow.
 */
export { syncOnce } from './sync-once';
export { syncFollow } from './sync-follow';
export { sourceFor, precedenceFor } from './source-name';
export { failedDatabaseResult, outcomeForError } from './run-database';
export type { SyncOptions, SyncEvent } from './types';
export type {
  ChangesSource,
  RawSink,
  CheckpointStore,
  ChangeRow,
  SinkBatch,
  SinkResult,
  SyncAdapters,
  FeedSelector,
  ResolvedScope,
  LinkEstimate,
} from './ports';
export {
  transition,
  initialState,
  backoffDelayMs,
  ONCE_POLICY,
  FOLLOW_POLICY,
  type RetryPolicy,
  type SyncMachineEvent,
} from './state-machine';
/** For benchmarks: the reader alone (read-only ceiling) — `for await (const b of catchUpBatches(source, null, limits, signal))`. */
export { catchUpBatches, type Batch, type BatchLimits } from './batcher';
