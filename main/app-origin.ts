/**
 * The app's pages are served from a privileged custom scheme so they have a real
 * origin (file:// pages all share the opaque origin "null"). Every trust decision
 * (navigation, IPC sender) parses the URL and compares origins exactly.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'cht-sync';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_START_URL = `${APP_ORIGIN}/index.html`;

export function originOf(url: string | undefined | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    // WHATWG URL gives "null" as the origin of non-special schemes; rebuild it for ours.
    if (parsed.protocol === `${APP_SCHEME}:`) return `${APP_SCHEME}://${parsed.host}`;
    return parsed.origin === 'null' ? null : parsed.origin;
  } catch {
    return null;
  }
}

export function isAppUrl(url: string | undefined | null): boolean {
  return originOf(url) === APP_ORIGIN;
}

/** Only https leaves the app, and only to the system browser. */
export function isSafeExternalUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '';
  } catch {
    return false;
  }
}
