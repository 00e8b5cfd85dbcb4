import { homedir } from 'node:os';
import path from 'node:path';

/**
 * The per-user app-data folder. The desktop app must use the same folder
 * (main/ sets Electron's userData path to this) so the CLI and the desktop share
 * their state. Parameters exist for tests.
 */
export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  if (platform === 'win32') {
    const appData = nonEmpty(env.APPDATA) ?? path.win32.join(home, 'AppData', 'Roaming');
    return path.win32.join(appData, 'CHT Sync Desktop');
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', 'CHT Sync Desktop');
  const xdg = nonEmpty(env.XDG_CONFIG_HOME);
  // XDG requires an absolute path; a relative one is ignored per the spec.
  const base = xdg && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(home, '.config');
  return path.posix.join(base, 'cht-sync-desktop');
}

/** --data-dir > CHT_SYNC_DATA_DIR > the platform default. */
export function resolveDataDir(flags: { dataDir?: string | undefined }, env: NodeJS.ProcessEnv): string {
  const chosen = nonEmpty(flags.dataDir) ?? nonEmpty(env.CHT_SYNC_DATA_DIR);
  return chosen ? path.resolve(chosen) : defaultDataDir(process.platform, env);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}
