import type { AppInfo } from '../contract';
import type { Logger } from '../core/logger';
import { resolveConfig, type CliFlags } from '../config';
import { openStore, storeFile, type SecretStore } from '../store';
import { createEngine, type LocalEngine } from './create-engine';

export interface BootEngineOptions {
  dataDir: string;
  /** The command line's settings (none in the desktop app). */
  flags?: Partial<CliFlags>;
  /** cht-sync's variables (COUCHDB_HOST, POSTGRES_*, DBT_*, …): the process's own, or over an --env-file's. */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  host: AppInfo['host'];
  /** Desktop: safeStorage-backed; default the 0600 secrets file in the data folder. */
  secretStore?: SecretStore;
  /** Electron's version when hosted by it, for diagnostics. */
  electronVersion?: string;
  /**
   * Settings the UI saves later are resolved with these flags and this environment only
   * (the demo: never a real server's variables). Default: the process environment, with
   * what the startup flags set still winning.
   */
  isIsolated?: boolean;
  /** A look at the state only (`cht-sync status`): leaves another process's runs alone. */
  isObserver?: boolean;
  /** A headless service's /metrics, /healthz and /readyz address. */
  metrics?: { port: number; host: string };
}

/**
 * The one start-up sequence of every host (each CLI command, `serve`, the Electron
 * shell): open the store, resolve the configuration (flags > environment > saved
 * settings > defaults; every problem reported at once), create the engine on that store.
 */
export async function bootEngine(o: BootEngineOptions): Promise<LocalEngine> {
  const store = openStore(storeFile(o.dataDir), o.secretStore ? { secretStore: o.secretStore } : {});
  try {
    const resolve = (saved: Parameters<typeof resolveConfig>[0]['saved']) =>
      resolveConfig({ flags: o.flags ?? {}, env: o.env, saved, dataDir: o.dataDir, secrets: store.secrets });
    const config = resolve(store.settings.hasSaved() ? store.settings.get() : null);
    return await createEngine({
      dataDir: o.dataDir,
      config,
      logger: o.logger,
      store,
      host: o.host,
      ...(o.secretStore ? { secretStore: o.secretStore } : {}),
      ...(o.electronVersion ? { electronVersion: o.electronVersion } : {}),
      ...(o.isIsolated ? { resolveConfig: resolve } : {}),
      ...(o.isObserver ? { isObserver: true } : {}),
      ...(o.metrics ? { metrics: o.metrics } : {}),
    });
  } catch (error) {
    store.close();
    throw error;
  }
}

/** True when the data folder holds a finished setup of a real CHT instance (the demo then runs elsewhere). */
export function hasRealSetup(dataDir: string): boolean {
  const store = openStore(storeFile(dataDir));
  try {
    const saved = store.settings.hasSaved() ? store.settings.get() : null;
    return Boolean(saved && saved.isSetupComplete && !saved.isDemo);
  } finally {
    store.close();
  }
}
