import type { BrowserWindowConstructorOptions, HandlerDetails, WindowOpenHandlerResponse } from 'electron';

/** Electron's events, as far as the shell uses them. */
export interface ElectronEvent {
  preventDefault(): void;
}
import { APP_START_URL, isAppUrl, isSafeExternalUrl } from './app-origin';

/** The parts of webContents the security rules touch (structural, so tests pass fakes). */
export interface WebContentsLike {
  setWindowOpenHandler(handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void;
  on(event: 'will-navigate' | 'will-redirect', listener: (event: ElectronEvent, url: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: ElectronEvent) => void): unknown;
}

export interface BrowserWindowLike {
  webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  on(event: 'close', listener: (event: ElectronEvent) => void): unknown;
  once(event: 'ready-to-show', listener: () => void): unknown;
  show(): void;
  hide(): void;
  focus(): void;
  isMinimized(): boolean;
  restore(): void;
}

export interface WindowDeps {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindowLike;
  shell: { openExternal(url: string): Promise<void> };
}

export interface MainWindowOptions {
  preloadPath: string;
  version: string;
  iconPath?: string;
  /** Tray mode: closing hides the window (scheduled syncs keep running) unless the app is quitting. */
  isQuitting: () => boolean;
}

export function windowOptions(o: MainWindowOptions): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 1024,
    minHeight: 640,
    show: false,
    title: 'CHT Sync Desktop',
    ...(o.iconPath ? { icon: o.iconPath } : {}),
    webPreferences: {
      preload: o.preloadPath,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      additionalArguments: [`--cht-sync-version=${o.version}`],
    },
  };
}

/**
 * Every window's content rules: no new windows (https links go to the system
 * browser), no navigation away from the app's own origin, no <webview>.
 */
const secured = new WeakSet<WebContentsLike>();

export function secureWebContents(contents: WebContentsLike, deps: Pick<WindowDeps, 'shell'>): void {
  // Applied from 'web-contents-created' and at window creation: once per contents.
  if (secured.has(contents)) return;
  secured.add(contents);
  contents.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) void deps.shell.openExternal(url);
    return { action: 'deny' };
  });
  const guard = (event: ElectronEvent, url: string): void => {
    if (isAppUrl(url)) return;
    event.preventDefault();
    if (isSafeExternalUrl(url)) void deps.shell.openExternal(url);
  };
  contents.on('will-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

export function createMainWindow(deps: WindowDeps, o: MainWindowOptions): BrowserWindowLike {
  const win = new deps.BrowserWindow(windowOptions(o));
  secureWebContents(win.webContents, deps);
  win.once('ready-to-show', () => win.show());
  win.on('close', (event) => {
    if (o.isQuitting()) return;
    event.preventDefault();
    win.hide();
  });
  void win.loadURL(APP_START_URL);
  return win;
}
