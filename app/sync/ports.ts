/**
 * The sync loop's ports (DESIGN.md §3). The loop depends on these small interfaces only;
 * app/couch and app/postgres/raw-sink.ts hold the adapters, the engine's composition root
 * (app/engine/sync-wiring.ts) wires them in as SyncAdapters, tests may bring others.
 */
import type { ScopeInfo, SkippedDoc } from '../contract/dto';
import type { EngineError } from '../core/engine-error';

/** One row of a `_changes` feed, already parsed. `seq` is opaque and may be null (seq_interval). */
export interface ChangeRow {
  id: string;
  seq: string | null;
  deleted: boolean;
  /** The doc as sent with include_docs (may be a tombstone stub, a full-body tombstone, or absent). */
  doc: Record<string, unknown> | null;
  /**
   * The doc's JSON text exactly as it came, when the feed parser cut it out of the row unparsed
   * (then `doc` is null; rowDoc() parses it on demand).
   */
  docText?: string;
  /**
   * Whether every number in docText is stored by jsonb as JavaScript's rewrite of it would be,
   * as the feed parser found while cutting the text out; absent when it could not tell (then
   * the doc is parsed and re-serialised).
   */
  docNumbersAsWritten?: boolean;
  /** First rev of `changes[]`: used to build a stub when a delete arrives without a body. */
  rev: string | null;
  /** Bytes of the row as read from the wire: what batches are cut by. */
  bytes: number;
  /**
   * The sanitised doc text, when the row was compacted as it arrived (then `doc` is null): a
   * waiting batch holds strings, not object trees several times their size.
   */
  json?: string;
}

export type PageItem = { kind: 'row'; row: ChangeRow } | { kind: 'end'; lastSeq: string; pending: number | null };

export type FollowItem = { kind: 'row'; row: ChangeRow } | { kind: 'heartbeat' } | { kind: 'end'; lastSeq: string };

export interface DatabaseInfo {
  docCount: number;
  deletedCount: number;
}

/** What the source measured of its link (null: not measured yet). */
export interface LinkEstimate {
  /** Bytes on the wire per second while a response streams. */
  bytesPerSecond: number | null;
  /** Request to first byte, ms. */
  latencyMs: number | null;
  /** Bytes one feed row costs on the wire (compressed when the server compresses). */
  wireBytesPerRow: number | null;
  /** Bytes received on the wire so far, every request included. */
  wireBytes: number;
}

export interface ChangesSource {
  readonly database: string;
  /**
   * One normal-feed request (`limit`, `seq_interval`, `include_docs`), rows streamed as they are parsed,
   * then one `end` item. `onOpen` runs once the server answered 200; `onBytes` as bytes arrive,
   * with the bytes of this response received so far on the wire.
   */
  page(o: {
    since: string | null;
    limit: number;
    signal: AbortSignal;
    onOpen?: () => void;
    onBytes?: (wireBytes: number) => void;
  }): AsyncIterable<PageItem>;
  /** A long-lived continuous feed with heartbeats, from `since`, until the signal aborts. */
  follow(o: {
    since: string | null;
    signal: AbortSignal;
    heartbeatMs: number;
    onOpen?: () => void;
  }): AsyncIterable<FollowItem>;
  info(signal: AbortSignal): Promise<DatabaseInfo>;
  /** The link as measured so far (sources that do not measure may leave it out). */
  link?(): LinkEstimate;
  close(): void;
}

/** What the sink receives: one batch, de-duplicated or not (the sink de-duplicates, last wins). */
export interface SinkBatch {
  source: string;
  /** Sources in precedence order (first wins the `couchdb` row for a shared `_id`). */
  precedence: readonly string[];
  rows: readonly ChangeRow[];
  /** The opaque position after this batch, or null when the batch ends between checkpointable rows. */
  seq: string | null;
  pending: number | null;
  /** Sanitise `_users` docs (strip password hashes). */
  isUsersDb: boolean;
  /** Write couchdb_progress even when the batch has no rows (first sight of an empty database). */
  forceProgress: boolean;
}

export interface SinkResult {
  docs: number;
  deletes: number;
  bytes: number;
  skipped: SkippedDoc[];
}

export interface RawSink {
  readProgress(source: string): Promise<{ seq: string; pending: number | null } | null>;
  /** One PostgreSQL transaction: rows + couchdb_progress, committed together. */
  writeBatch(batch: SinkBatch): Promise<SinkResult>;
  close(): Promise<void>;
}

/** The same shape as app/store's CheckpointStore (structural), so the store satisfies it. */
export interface CheckpointStore {
  get(source: string): { seq: string; pending: number | null; updatedAt: string } | null;
  set(source: string, seq: string, pending: number | null): void;
}

/** A Mango selector that limits a feed to a scope (opaque to the loop). */
export type FeedSelector = Record<string, unknown>;

/** What a scope resolved to: a selector per database, and what to say about it. */
export interface ResolvedScope {
  selectors: ReadonlyMap<string, FeedSelector>;
  info: ScopeInfo;
}

/**
 * Everything the loop needs from outside, injected by the composition root: the raw tables, a
 * feed source and a sink per database, the source's error translator, and scope resolution.
 */
export interface SyncAdapters {
  /** Create or adopt the raw tables (idempotent); throws an EngineError. */
  prepare(): Promise<void>;
  source(database: string, selector: FeedSelector | null): ChangesSource;
  sink(database: string): RawSink;
  /** Anything a source (or the server behind it) threw, as an EngineError naming the database. */
  sourceError(error: unknown, database: string): EngineError;
  /** Place ids → a selector per database (every database must be scopeable; throws an EngineError otherwise). */
  resolveScope(placeIds: readonly string[], databases: readonly string[], signal: AbortSignal): Promise<ResolvedScope>;
}
