import { EngineError } from '../core/engine-error';
import type { Logger } from '../core/logger';
import { registerSecret } from '../core/redact';
import { boundSecret, couchOrigin, postgresUrlOrigin, SECRET_NAMES, type SavedSettings, type Store } from '../store';
import type { EngineConfig } from './config';

/** Called after the settings were re-derived, in registration order; may restart what depends on a changed part. */
export type SettingsListener = (before: EngineConfig, after: EngineConfig) => Promise<void> | void;

export interface CouchConnection {
  url: string;
  username?: string;
  password?: string;
  trustedFingerprint256?: string;
  databases: string[];
  /** Place ids whose subtrees a sync is limited to (--scope / CHT_SYNC_SCOPE / the saved district). */
  scope?: string[];
}

/**
 * The configuration in effect: the startup config, re-derived from the saved
 * settings whenever the UI changes them (flags keep winning for the whole life of
 * the process), and the secrets that go with it.
 */
export class EngineSettings {
  private config: EngineConfig;
  private readonly listeners: SettingsListener[] = [];

  constructor(
    private readonly store: Store,
    startup: EngineConfig,
    private readonly reresolve: (saved: SavedSettings) => EngineConfig,
  ) {
    this.config = startup;
    registerSecret(startup.couch?.password);
  }

  get current(): EngineConfig {
    return this.config;
  }

  /** Resolves the saved settings without applying them: throws when they cannot run. */
  check(saved: SavedSettings): void {
    this.reresolve(saved);
  }

  onApplied(listener: SettingsListener): void {
    this.listeners.push(listener);
  }

  /** The saved CouchDB password, only when `url` is the server it was saved for (scheme, host and port). */
  couchPasswordFor(url: string): string | null {
    const value = boundSecret(
      this.store.secrets,
      SECRET_NAMES.couchPassword,
      couchOrigin(url),
      couchOrigin(this.store.settings.get().couch.url),
    );
    registerSecret(value);
    return value;
  }

  /** The saved PostgreSQL password, only when `url` names the server (host and port) it was saved for. */
  postgresPasswordFor(url: string): string | null {
    const saved = this.store.settings.get().postgres;
    const legacy = saved.kind === 'external' ? postgresUrlOrigin(`postgres://${saved.host}:${saved.port}`) : null;
    const value = boundSecret(this.store.secrets, SECRET_NAMES.postgresPassword, postgresUrlOrigin(url), legacy);
    registerSecret(value);
    return value;
  }

  couchConnection(): CouchConnection {
    const couch = this.config.couch;
    if (!couch)
      throw new EngineError(
        'NOT_CONFIGURED',
        'No CHT instance is configured yet. Finish the setup (or pass --couch-url / COUCHDB_HOST).',
      );
    const password = couch.password ?? this.couchPasswordFor(couch.url) ?? undefined;
    return { ...couch, ...(password ? { password } : {}) };
  }

  /** Re-derives the config from the saved settings and tells the listeners (synchronously up to their first wait). */
  apply(): Promise<void> {
    const before = this.config;
    this.config = this.reresolve(this.store.settings.get());
    registerSecret(this.config.couch?.password);
    const after = this.config;
    return (async () => {
      for (const listener of this.listeners) {
        const pending = listener(before, after);
        if (pending) await pending;
      }
    })();
  }
}

/**
 * The default re-resolution after the UI saved settings: saved settings and the
 * environment, as at startup, plus whatever the startup config set differently
 * (command-line flags, or a config passed in by the caller) — flags keep winning
 * over saved settings for the whole life of the process.
 */
export function savedOverStartup(
  startup: EngineConfig,
  plain: (saved: SavedSettings) => EngineConfig,
  savedAtStart: SavedSettings,
  logger: Logger,
): (saved: SavedSettings) => EngineConfig {
  const keys = ['couch', 'postgres', 'schema', 'table', 'batchSize', 'maxBatchBytes', 'pipeline', 'transform'] as const;
  const overrides: Partial<EngineConfig> = {};
  try {
    const base = plain(savedAtStart);
    for (const key of keys) {
      if (JSON.stringify(startup[key]) !== JSON.stringify(base[key]))
        (overrides as Record<string, unknown>)[key] = startup[key];
    }
  } catch (error) {
    // The saved settings alone do not resolve: everything in the startup config stands.
    logger.debug('saved settings alone do not resolve; keeping the startup configuration', { error });
    for (const key of keys) (overrides as Record<string, unknown>)[key] = startup[key];
  }
  return (saved) => ({ ...plain(saved), ...overrides, dataDir: startup.dataDir });
}
