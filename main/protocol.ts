import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { APP_HOST, APP_SCHEME } from './app-origin';
import { CONTENT_SECURITY_POLICY } from '../app/engine';

export const APP_SCHEME_PRIVILEGES = [
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: false, stream: false },
  },
];

/**
 * Maps app://cht-sync/<path> to a file below the renderer folder; anything else
 * (another host, a path escaping the folder) is a 404. Every response carries the CSP.
 */
export function resolveAppFile(url: string, rendererDir: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null;
  const relative = decodeURIComponent(parsed.pathname === '/' ? '/index.html' : parsed.pathname);
  const root = path.resolve(rendererDir);
  const file = path.resolve(root, '.' + path.posix.normalize(relative));
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  // Client-side routes have no extension: they load the app shell.
  return path.extname(file) === '' ? path.join(root, 'index.html') : file;
}

export interface ProtocolDeps {
  protocol: { handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void };
  fetchFile(fileUrl: string): Promise<Response>;
}

export function setupAppProtocol(deps: ProtocolDeps, rendererDir: string): void {
  deps.protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(request.url, rendererDir);
    if (!file) return new Response('Not found', { status: 404 });
    const response = await deps.fetchFile(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });
}

export interface SessionLike {
  webRequest: {
    onHeadersReceived(
      listener: (
        details: { responseHeaders?: Record<string, string[]> },
        callback: (response: { responseHeaders: Record<string, string[]> }) => void,
      ) => void,
    ): void;
  };
  setPermissionRequestHandler(
    handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
}

/** CSP on every response the session sees (belt and braces with the protocol handler), and no permissions. */
export function setupSessionSecurity(session: SessionLike): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
}
