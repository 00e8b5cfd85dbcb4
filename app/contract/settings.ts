import type { PipelineSetting, ScheduleSetting } from './dto';

/**
 * The bounds of each numeric setting, defined once: the API's schemas (methods.ts), the
 * configuration's resolution of flags, environment and saved settings (app/config), and
 * the UI's forms all check against these.
 */
export const SETTING_BOUNDS = {
  /** Documents per batch written to PostgreSQL. */
  batchSize: { min: 1, max: 100_000 },
  /** A page larger than this is cut into several batches while it streams in. */
  maxBatchBytes: { min: 64 * 1024, max: 1024 * 1024 * 1024 },
  /** Models run in parallel (DBT_THREAD_COUNT). */
  threads: { min: 1, max: 32 },
  /** The `batch_size` var passed to the models (DBT_BATCH_SIZE). */
  transformBatchSize: { min: 1, max: 100_000_000 },
  /** At most one daemon transform run per this many seconds (DATAEMON_INTERVAL). */
  intervalSeconds: { min: 0, max: 24 * 3600 },
  /** The desktop schedule's interval. */
  scheduleMinutes: { min: 1, max: 24 * 60 },
  port: { min: 1, max: 65535 },
} as const satisfies Record<string, { min: number; max: number }>;

/**
 * The settings the app keeps between runs. Like the contract's SettingsView but
 * internal and secret-free: passwords live in the store's SecretStore under
 * SECRET_NAMES. The store keeps them; app/config takes them as a plain value.
 */
export interface SavedSettings {
  isSetupComplete: boolean;
  /** `trustedFingerprint256`: the self-signed certificate the user chose to trust for `url` (SHA-256, upper case). */
  /** `scope`: place `_id`s whose subtrees alone are synced (the wizard's district step); empty = everything. */
  couch: {
    url: string | null;
    username: string | null;
    databases: string[];
    trustedFingerprint256: string | null;
    scope?: string[];
  };
  postgres:
    | { kind: 'embedded'; port: number | null }
    | { kind: 'external'; host: string; port: number; database: string; username: string; ssl: boolean };
  schema: string;
  table: string;
  pipeline: PipelineSetting;
  schedule: ScheduleSetting;
  /** `transformAfterSync` (absent = true): a sync that lands new rows is followed by the transforms. */
  advanced: { batchSize: number; threads: number; transformBatchSize: number | null; transformAfterSync?: boolean };
  language: 'en' | 'fr';
  isDemo: boolean;
}

/** The names saved passwords are kept under (the store's SecretStore; desktop: safeStorage). */
export const SECRET_NAMES = {
  couchPassword: 'couch.password',
  postgresPassword: 'postgres.password',
} as const;

/**
 * Saved passwords are bound to the server they were saved for (see the store's saveBoundSecret):
 * a password is handed out only to a caller asking for the origin recorded beside it.
 */
export function boundSecret(
  store: { get(name: string): string | null },
  name: string,
  origin: string | null,
  legacyOrigin: string | null,
): string | null {
  if (origin === null) return null;
  const value = store.get(name);
  if (value === null) return null;
  const savedFor = store.get(`${name}.origin`) ?? legacyOrigin;
  return savedFor === origin ? value : null;
}

/** The origin a CouchDB password is bound to: scheme, host and port (default ports made explicit). */
export function couchOrigin(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
    const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
    return `${parsed.protocol}//${parsed.hostname.toLowerCase()}:${port}`;
  } catch {
    return null;
  }
}

/** The origin a PostgreSQL password is bound to: host and port. */
export function postgresOrigin(
  host: string | null | undefined,
  port: number | string | null | undefined,
): string | null {
  if (!host) return null;
  return `postgres://${host.toLowerCase()}:${String(port || 5432)}`;
}

/** postgresOrigin of a postgres:// URL. */
export function postgresUrlOrigin(url: string): string | null {
  try {
    const parsed = new URL(url);
    return postgresOrigin(decodeURIComponent(parsed.hostname), parsed.port || 5432);
  } catch {
    return null;
  }
}
