/**
 * Data transfer objects: plain JSON values shared by the engine, the hosts and
 * the renderer. No Node, no DOM, no classes. Timestamps are ISO-8601 strings.
 */

/** The sync state machine's states; the dashboard reads `kind`, never booleans. */
export type SyncStateKind = 'idle' | 'connecting' | 'catching-up' | 'live' | 'backing-off' | 'paused' | 'error';

export interface SyncState {
  kind: SyncStateKind;
  /** When this state was entered. */
  since: string;
  /** For `backing-off`: when the next attempt happens; for `error`: the error. */
  retryAt?: string;
  attempt?: number;
  error?: import('./errors').WireError;
}

export interface DatabaseStatus {
  database: string;
  /** `<host>/<db>` as written to the `source` column. */
  source: string;
  state: SyncState;
  /** Last committed seq, shortened for display (opaque: never parsed). */
  seqShort: string | null;
  pending: number | null;
  docsPerSecond: number | null;
  etaSeconds: number | null;
  lastSuccessAt: string | null;
  lastRun: { runId: number; outcome: RunOutcome; finishedAt: string | null } | null;
}

/**
 * A database's committed position and last run, from the app's own state only
 * (no server is contacted): what `cht-sync status` prints.
 */
export interface DatabaseCheckpoint {
  database: string;
  /** `<host>/<db>` as written to the `source` column. */
  source: string;
  /** The last committed seq, whole (opaque: never parsed). */
  seq: string | null;
  seqShort: string | null;
  pending: number | null;
  checkpointAt: string | null;
  lastRun: { id: number; outcome: RunOutcome; finishedAt: string | null; docs: number; error: string | null } | null;
}

export interface SyncProgress {
  database: string;
  docs: number;
  deletes: number;
  bytes: number;
  pending: number | null;
  /** True when `pending` is estimated from the database's doc counts (the server sent none, e.g. pouchdb-server). */
  isPendingEstimate?: boolean;
  docsPerSecond: number;
  etaSeconds: number | null;
  /**
   * Progress within a batch: bytes of the response being read, as they came over the wire
   * (compressed when the server compresses), not yet committed. 0 between requests.
   */
  receivingBytes?: number;
  /** Rows of the response being read, parsed but not yet committed. */
  receivingRows?: number;
  /** Bytes on the wire for this database in this run (compressed as received), requests of every kind. */
  wireBytes?: number;
  /**
   * The link's measured rate: bytes on the wire per second while responses stream (weighted
   * average over recent responses); null until one response was long enough to measure.
   */
  linkBytesPerSecond?: number | null;
  /** The link's measured latency: time from a request to its first byte, ms (recent average); null until measured. */
  linkLatencyMs?: number | null;
}

/**
 * How a run ended. `done`: every part reached its goal. `partial`: some parts did,
 * see the per-part rows. `offline`: the server could not be reached. `timeout`: reachable
 * but too slow for the deadline. `refused`: credentials rejected. `failed`: anything else.
 * `cancelled`: stopped by the user.
 */
export type RunOutcome = 'running' | 'done' | 'partial' | 'offline' | 'timeout' | 'refused' | 'failed' | 'cancelled';

export interface SkippedDoc {
  id: string;
  reason: string;
}

export interface DatabaseRunResult {
  database: string;
  source: string;
  outcome: RunOutcome;
  docs: number;
  deletes: number;
  skipped: SkippedDoc[];
  bytes: number;
  seconds: number;
  seqBefore: string | null;
  seqAfter: string | null;
  reachedEnd: boolean;
  error?: import('./errors').WireError;
}

/** A sync limited to some places' subtrees (`--scope`): what it was resolved to at the start. */
export interface ScopeInfo {
  places: { id: string; name: string; type: string }[];
  /** The users whose facility is in the scope (their user docs, tasks, targets, telemetry travel). */
  userCount: number;
}

export interface SyncRunResult {
  runId: number;
  outcome: RunOutcome;
  startedAt: string;
  finishedAt: string;
  databases: DatabaseRunResult[];
  scope?: ScopeInfo;
}

/** success/error/skipped for models, seeds and snapshots; pass/fail/warn (or error/skipped) for tests. */
export type ModelStatus = 'success' | 'error' | 'skipped' | 'running' | 'pending' | 'pass' | 'fail' | 'warn';

export type NodeResourceType = 'model' | 'seed' | 'snapshot' | 'test' | 'unit_test';

export interface ModelRunResult {
  model: string;
  /** `package.model`, unique within a project. */
  uniqueId: string;
  materialized: string;
  status: ModelStatus;
  rowsAffected: number | null;
  seconds: number;
  /** Why it was fully refreshed, when it was. */
  refreshReason?: string;
  error?: import('./errors').WireError & {
    details?: { model?: string; file?: string; line?: number; sqlFragment?: string };
  };
  /** For `skipped`: the failed ancestor. */
  skippedBecause?: string;
  /** Absent for models (older runs hold only models). */
  resourceType?: NodeResourceType;
  /** Tests: what the test checks, in plain words (e.g. "orders.id is unique"). */
  description?: string;
  /** Tests: how many rows failed (0 when it passed). */
  failures?: number;
  /** Tests: dbt's message, e.g. "Got 3 results, configured to fail if != 0". */
  message?: string;
  /** Tests: up to 20 failing rows, and the query that selects them all. */
  failingRows?: Record<string, unknown>[];
  failingSql?: string;
}

export interface TransformRunResult {
  runId: number;
  outcome: RunOutcome;
  startedAt: string;
  finishedAt: string;
  project: string;
  models: ModelRunResult[];
  warnings: string[];
}

export type RunKind = 'sync' | 'transform' | 'verify';

/**
 * One database's reconciliation (`cht-sync verify`, "Check for missing or extra records"): the
 * server's ids and revs against the raw table's rows, no document bodies downloaded.
 */
export interface VerifyDatabaseResult {
  database: string;
  source: string;
  outcome: RunOutcome;
  /** Live documents the server lists (in the scope, when there is one). */
  serverDocs: number;
  /** Live rows the raw table holds for this source. */
  rows: number;
  /** On the server, not in PostgreSQL. */
  missing: number;
  /** In both, at another revision (or deleted on one side only). */
  stale: number;
  /** In PostgreSQL, gone from the server without a trace in `_changes` (purged, archived). */
  purged: number;
  /** In PostgreSQL, still on the server but no longer in the scope (the contact moved). */
  outOfScope: number;
  /** With `fix`: documents fetched again, rows marked deleted. */
  fetched: number;
  marked: number;
  /** Up to 20 ids of each kind, to look at. */
  samples: { missing: string[]; stale: string[]; purged: string[]; outOfScope: string[] };
  seconds: number;
  error?: import('./errors').WireError;
}

export interface VerifyRunResult {
  runId: number;
  outcome: RunOutcome;
  startedAt: string;
  finishedAt: string;
  isFix: boolean;
  databases: VerifyDatabaseResult[];
}

export interface RunSummary {
  id: number;
  kind: RunKind;
  trigger: 'manual' | 'schedule' | 'cli' | 'daemon' | 'setup';
  outcome: RunOutcome;
  startedAt: string;
  finishedAt: string | null;
  /** sync: docs written; transform: models succeeded. */
  count: number;
  errorCount: number;
  summary: string;
}

export interface RunDetail extends RunSummary {
  databases?: DatabaseRunResult[];
  /** A verify run's per-database reconciliation. */
  verify?: VerifyDatabaseResult[];
  models?: ModelRunResult[];
  warnings?: string[];
  error?: import('./errors').WireError;
}

export type ScheduleSetting = { kind: 'manual' } | { kind: 'interval'; minutes: number };

export type PipelineSetting = { kind: 'bundled' } | { kind: 'folder'; path: string } | { kind: 'git'; url: string };

/** Settings as the UI sees them: secrets are never sent, only whether one is stored. */
export interface SettingsView {
  isSetupComplete: boolean;
  couch: {
    url: string | null;
    username: string | null;
    hasPassword: boolean;
    databases: string[];
    /** The self-signed certificate the user chose to trust for this server, if any. */
    trustedFingerprint256: string | null;
    /** Place `_id`s the sync is limited to (their subtrees); empty = everything. */
    scope: string[];
  };
  postgres:
    | { kind: 'embedded'; port: number | null }
    | {
        kind: 'external';
        host: string;
        port: number;
        database: string;
        username: string;
        hasPassword: boolean;
        ssl: boolean;
      };
  schema: string;
  table: string;
  pipeline: PipelineSetting;
  schedule: ScheduleSetting;
  /** `transformAfterSync`: a sync that lands new rows (Sync now, the schedule) is followed by the transforms. */
  advanced: { batchSize: number; threads: number; transformBatchSize: number | null; transformAfterSync: boolean };
  language: 'en' | 'fr';
  isDemo: boolean;
}

/** A place the sync can be limited to (the wizard's district step). */
export interface ScopePlace {
  id: string;
  name: string;
  /** `contact_type` for configurable hierarchies, else `type`. */
  type: string;
  /** 1 = the top of the hierarchy. */
  level: number;
  parentId: string | null;
}

export interface ScopePlaceList {
  places: ScopePlace[];
  /** Of the databases asked about, those that cannot be limited to a district (no lineage: medic-sentinel, medic-logs). */
  unscopeable: string[];
}

export interface CouchDatabaseInfo {
  name: string;
  docCount: number;
  deletedCount: number;
  sizeBytes: number;
  isUsual: boolean;
}

export interface CouchTestResult {
  serverVersion: string;
  vendor: string;
  databases: CouchDatabaseInfo[];
}

export interface PostgresTestResult {
  serverVersion: string;
  canCreateSchema: boolean;
}

export interface Estimate {
  docs: number;
  bytes: number;
  /** PostgreSQL stores jsonb larger than CouchDB's compact JSON; this includes indexes. */
  diskBytes: number;
  seconds: number;
  /** The link as measured for the estimate (one feed page, gzip as the sync asks); absent when it could not be measured. */
  link?: { bytesPerSecond: number; latencyMs: number; bytesPerDoc: number; isCompressed: boolean };
}

export interface TableInfo {
  schema: string;
  name: string;
  kind: 'table' | 'view' | 'materialized view';
  rows: number;
  /** max(saved_timestamp) when the table has one: "data current as of". */
  freshAsOf: string | null;
}

export interface TablePreview {
  columns: { name: string; type: string }[];
  rows: (string | number | boolean | null)[][];
  total: number;
  offset: number;
}

export interface TableFilter {
  column: string;
  op: 'eq' | 'contains' | 'gt' | 'lt';
  value: string;
}

export interface ConnectionInfo {
  host: string;
  port: number;
  database: string;
  username: string;
  /** URL without the password; the password is never sent to the UI. */
  url: string;
  passwordHint: string;
  schema: string;
}

export interface ChartSeries {
  name: string;
  points: { x: string; y: number }[];
  /**
   * What a series the engine named itself stands for, so the UI says it in its own language:
   * `other` (the smaller values together), `none` (no value), `throughput` (docs/s of `database`),
   * `backlog` (documents each run cleared). Absent: `name` is a value from the data (a form, a type).
   */
  role?: 'other' | 'none' | 'throughput' | 'backlog';
  database?: string;
}

export interface ChartData {
  chart: ChartName;
  title: string;
  series: ChartSeries[];
  /** Why the chart is empty, when it is: a code and its values, worded by the UI in its own language. */
  emptyReason?: ChartEmptyReason;
}

/**
 * Why a chart has nothing to draw. The engine says which case and with what values; the words are
 * the reader's (the renderer's catalogue). Scripts act on `code`.
 *  - `not-configured`: no analytics database yet (setup unfinished);
 *  - `no-table`: `table` does not exist yet (transforms have not built it);
 *  - `no-column`: `table` exists without `column` (built by another pipeline?);
 *  - `no-rows`: `table` has no rows in the chart's window;
 *  - `no-sync-runs`: no sync run copied documents in the last `days` days.
 */
export type ChartEmptyReason =
  | { code: 'not-configured' }
  | { code: 'no-table'; table: string }
  | { code: 'no-column'; table: string; column: string }
  | { code: 'no-rows'; table: string }
  | { code: 'no-sync-runs'; days: number };

export type ChartName = 'reports-per-form-week' | 'contacts-per-week' | 'sync-throughput';

export interface AppInfo {
  version: string;
  dataDir: string;
  platform: string;
  host: 'electron' | 'http' | 'in-process';
}
