import { z } from 'zod';
import type {
  AppInfo,
  ChartData,
  ConnectionInfo,
  CouchTestResult,
  DatabaseCheckpoint,
  DatabaseStatus,
  Estimate,
  PostgresTestResult,
  RunDetail,
  RunSummary,
  ScopePlaceList,
  SettingsView,
  SyncRunResult,
  TableInfo,
  TablePreview,
  TransformRunResult,
  VerifyRunResult,
} from './dto';
import { SETTING_BOUNDS } from './settings';

/** A whole number within a setting's bounds (SETTING_BOUNDS: the one definition). */
const bounded = (b: { min: number; max: number }) => z.number().int().min(b.min).max(b.max);

/**
 * The runtime schema of every method's single argument object. Each transport
 * (IPC, HTTP, in-process) validates with these before a handler runs.
 */
/** A SHA-256 certificate fingerprint as a COUCH_TLS error reports it (details.fingerprint256). */
const fingerprint256 = z
  .string()
  .regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$/, 'must be a SHA-256 fingerprint (AB:CD:… , 32 pairs)');

const couchCredentials = z.object({
  url: z.string().min(1),
  username: z.string().optional(),
  password: z.string().optional(),
  /** Accept this self-signed certificate (the user chose to trust it). */
  trustedFingerprint256: fingerprint256.optional(),
});

const postgresSetting = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('embedded') }),
  z.object({
    kind: z.literal('external'),
    host: z.string().min(1),
    port: bounded(SETTING_BOUNDS.port),
    database: z.string().min(1),
    username: z.string().min(1),
    password: z.string().optional(),
    ssl: z.boolean().default(false),
  }),
]);

const pipelineSetting = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('bundled') }),
  z.object({ kind: z.literal('folder'), path: z.string().min(1) }),
  z.object({ kind: z.literal('git'), url: z.string().min(1) }),
]);

const scheduleSetting = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('manual') }),
  z.object({ kind: z.literal('interval'), minutes: bounded(SETTING_BOUNDS.scheduleMinutes) }),
]);

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain SQL identifier');

const settingsPatch = z
  .object({
    /** `trustedFingerprint256: null` forgets a trusted certificate; a new `url` forgets it too unless one is given. */
    couch: couchCredentials
      .extend({
        databases: z.array(z.string().min(1)).optional(),
        trustedFingerprint256: fingerprint256.nullable().optional(),
        scope: z.array(z.string().min(1).max(200)).max(100).optional(),
      })
      .partial(),
    postgres: postgresSetting,
    schema: identifier,
    table: identifier,
    pipeline: pipelineSetting,
    schedule: scheduleSetting,
    advanced: z
      .object({
        batchSize: bounded(SETTING_BOUNDS.batchSize),
        threads: bounded(SETTING_BOUNDS.threads),
        transformBatchSize: bounded(SETTING_BOUNDS.transformBatchSize).nullable(),
        transformAfterSync: z.boolean(),
      })
      .partial(),
    language: z.enum(['en', 'fr']),
  })
  .partial();

const empty = z.object({}).strict();

export const methodSchemas = {
  'app.info': empty,
  'settings.get': empty,
  'settings.update': settingsPatch,
  'setup.testCouch': couchCredentials,
  'setup.testPostgres': z.object({ postgres: postgresSetting }),
  'setup.estimate': couchCredentials.extend({ databases: z.array(z.string().min(1)).min(1) }),
  'setup.complete': settingsPatch.extend({
    couch: couchCredentials.extend({
      databases: z.array(z.string().min(1)).min(1),
      scope: z.array(z.string().min(1).max(200)).max(100).optional(),
    }),
  }),
  'setup.useDemo': empty,
  /**
   * The server's places of the top hierarchy levels, to limit the sync to districts. Without a
   * `url`, the saved CHT connection is used (Settings).
   */
  'setup.listPlaces': couchCredentials.partial().extend({ databases: z.array(z.string().min(1)).optional() }),
  'sync.status': empty,
  /** Per configured database (or, with none configured, per saved checkpoint): position and last run, from local state. */
  'sync.checkpoints': empty,
  /**
   * While a one-off sync is running, a second request JOINS it (same runId, same result).
   * While the continuous sync (`cht-sync run` / `sync` / `demo`) runs, it fails with BUSY.
   */
  'sync.runNow': z.object({
    databases: z.array(z.string().min(1)).optional(),
    /** A manual sync that has not reached the feed's end by then reports `timeout`. */
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600)
      .optional(),
  }),
  /**
   * Reconciliation: the raw table against the server's ids and revisions (no document bodies);
   * `fix` re-fetches missing and out-of-date documents and marks rows gone from the server (or
   * from the scope) deleted. Recorded in run history as kind `verify`.
   */
  'sync.verify': z.object({ fix: z.boolean().optional(), trigger: z.enum(['manual', 'cli']).optional() }),
  'sync.pause': empty,
  'sync.resume': empty,
  /** While a transform run is in progress, a second request fails with BUSY (retryable). */
  'transform.runNow': z.object({
    select: z.array(z.string()).optional(),
    exclude: z.array(z.string()).optional(),
    fullRefresh: z.boolean().optional(),
  }),
  'runs.list': z.object({
    kind: z.enum(['sync', 'transform', 'verify']).optional(),
    outcome: z.enum(['running', 'done', 'partial', 'offline', 'timeout', 'refused', 'failed', 'cancelled']).optional(),
    limit: z.number().int().min(1).max(500).default(50),
    beforeId: z.number().int().optional(),
  }),
  'runs.get': z.object({ id: z.number().int() }),
  'runs.diagnostics': z.object({ id: z.number().int().optional() }),
  'data.tables': empty,
  'data.preview': z.object({
    table: z.string().min(1),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(500).default(50),
    filter: z
      .object({ column: z.string().min(1), op: z.enum(['eq', 'contains', 'gt', 'lt']), value: z.string() })
      .optional(),
  }),
  'data.exportCsv': z.object({
    table: z.string().min(1),
    filter: z
      .object({ column: z.string().min(1), op: z.enum(['eq', 'contains', 'gt', 'lt']), value: z.string() })
      .optional(),
  }),
  'data.exportXlsx': z.object({
    table: z.string().min(1),
    filter: z
      .object({ column: z.string().min(1), op: z.enum(['eq', 'contains', 'gt', 'lt']), value: z.string() })
      .optional(),
  }),
  'data.connection': empty,
  'data.chart': z.object({
    chart: z.enum(['reports-per-form-week', 'contacts-per-week', 'sync-throughput']),
  }),
} as const;

export type MethodName = keyof typeof methodSchemas;
export type MethodArgs<M extends MethodName> = z.input<(typeof methodSchemas)[M]>;
export type ParsedArgs<M extends MethodName> = z.output<(typeof methodSchemas)[M]>;

/** What each method resolves to. */
export interface MethodResults {
  'app.info': AppInfo;
  'settings.get': SettingsView;
  'settings.update': SettingsView;
  'setup.testCouch': CouchTestResult;
  'setup.testPostgres': PostgresTestResult;
  'setup.estimate': Estimate;
  'setup.complete': SettingsView;
  'setup.useDemo': SettingsView;
  'setup.listPlaces': ScopePlaceList;
  'sync.status': DatabaseStatus[];
  'sync.checkpoints': DatabaseCheckpoint[];
  'sync.runNow': SyncRunResult;
  'sync.verify': VerifyRunResult;
  'sync.pause': DatabaseStatus[];
  'sync.resume': DatabaseStatus[];
  'transform.runNow': TransformRunResult;
  'runs.list': RunSummary[];
  'runs.get': RunDetail;
  'runs.diagnostics': { report: string };
  'data.tables': TableInfo[];
  'data.preview': TablePreview;
  'data.exportCsv': { fileName: string; csv: string; rows: number };
  /** An .xlsx workbook with typed cells, base64-encoded (one JSON value over every transport). */
  'data.exportXlsx': { fileName: string; base64: string; rows: number };
  'data.connection': ConnectionInfo;
  'data.chart': ChartData;
}

export type MethodResult<M extends MethodName> = MethodResults[M];

export const METHOD_NAMES = Object.keys(methodSchemas) as MethodName[];
