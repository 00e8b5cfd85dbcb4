export { syncOnce } from './sync-once';
export { syncFollow } from './sync-follow';
export { sourceFor, precedenceFor } from './source-name';
export { failedDatabaseResult, outcomeForError } from './run-database';
export { ensureRawSchema, readProgress, rawNames } from '../postgres/raw-schema';
export { createPgRawSink } from '../postgres/raw-sink';
export { createCouchChangesSource } from '../couch/couch-changes-source';
export type { SyncOptions, SyncEvent } from './types';
export type { ChangesSource, RawSink, CheckpointStore, ChangeRow, SinkBatch, SinkResult } from './ports';
export { transition, initialState, backoffDelayMs, ONCE_POLICY, FOLLOW_POLICY, type RetryPolicy, type SyncMachineEvent } from './state-machine';
/** For benchmarks: the reader alone (read-only ceiling) — `for await (const b of catchUpBatches(createCouchChangesSource(conn, db), null, limits, signal))`. */
export { catchUpBatches, type Batch, type BatchLimits } from './batcher';
