import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, safeStorage, session, shell, Tray } from 'electron';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { bootEngine, createLogger, defaultDataDir, invokeHandler, type Logger } from '../app/engine';
import { setupIpc } from './ipc';
import { APP_SCHEME_PRIVILEGES, setupAppProtocol, setupSessionSecurity } from './protocol';
import { createSafeSecretStore } from './secrets';
import { setupTray } from './tray';
import { createMainWindow, secureWebContents, type BrowserWindowLike } from './window';

/**
 * The Electron shell: lifecycle only. The engine does the work; this file wires
 * windows, IPC, tray and secrets to it. The data folder is the CLI's default, so
 * `cht-sync status` and the desktop app see the same state.
 */
const dataDir = process.env.CHT_SYNC_DATA_DIR || defaultDataDir();
mkdirSync(dataDir, { recursive: true });
app.setPath('userData', dataDir);
app.setAppLogsPath(path.join(dataDir, 'logs'));
protocol.registerSchemesAsPrivileged(APP_SCHEME_PRIVILEGES);

const distDir = path.resolve(__dirname, '..');
const rendererDir = path.join(distDir, 'renderer');
const iconPath = path.join(distDir, '..', 'resources', 'packaging', 'icon.png');

let isQuitting = false;
let mainWindow: BrowserWindowLike | null = null;

if (!app.requestSingleInstanceLock()) {
  // Another copy owns the data folder (SQLite state, embedded PostgreSQL): hand over and leave.
  app.quit();
} else {
  app.on('second-instance', () => showWindow());
  app.on('web-contents-created', (_event, contents) => secureWebContents(contents, { shell }));
  app
    .whenReady()
    .then(start)
    .catch((error: unknown) => fatal(error));
}

function showWindow(): void {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.show();
  mainWindow.focus();
}

async function start(): Promise<void> {
  const logger: Logger = createLogger({ destination: path.join(dataDir, 'logs', 'main.log') });
  logger.info('desktop app starting', { version: app.getVersion(), dataDir });
  setupSessionSecurity(session.defaultSession);
  setupAppProtocol({ protocol, fetchFile: (url) => net.fetch(url) }, rendererDir);

  const secretStore = createSafeSecretStore({
    safeStorage,
    dataDir,
    confirmPlaintext: () =>
      dialog.showMessageBoxSync({
        type: 'warning',
        buttons: ['Store unencrypted', 'Cancel'],
        defaultId: 1,
        cancelId: 1,
        message: 'No system keychain is available to encrypt your password.',
        detail:
          'CHT Sync can keep it in a file only your user account can read. Install or unlock a keychain to have it encrypted instead.',
      }) === 0,
  });
  const engine = await bootEngine({
    dataDir,
    env: process.env,
    logger,
    secretStore,
    host: 'electron',
    electronVersion: process.versions.electron ?? 'unknown',
  });

  setupIpc({
    ipcMain,
    invoke: (method, args) => invokeHandler(engine, method, args),
    events: engine.events,
    targets: () => BrowserWindow.getAllWindows().map((w) => w.webContents),
  });
  mainWindow = createMainWindow(
    { BrowserWindow, shell },
    {
      preloadPath: path.join(__dirname, 'preload.cjs'),
      version: app.getVersion(),
      iconPath,
      isQuitting: () => isQuitting,
    },
  );
  setupTray(
    { createTray: (icon) => new Tray(icon), buildMenu: (template) => Menu.buildFromTemplate(template) },
    iconPath,
    {
      open: () => showWindow(),
      syncNow: () =>
        void engine
          .syncNow({ trigger: 'manual' })
          .catch((error: unknown) => logger.warn('tray sync failed', { error })),
      quit: () => app.quit(),
    },
  );
  // Scheduled syncs (from the saved settings) run whether or not the window is open.
  engine.startDaemon({ follow: false, transforms: true });

  app.on('activate', () => showWindow());
  // Closing the window keeps the tray; only Quit ends the app.
  app.on('window-all-closed', () => undefined);
  let isClosed = false;
  app.on('before-quit', (event) => {
    isQuitting = true;
    if (isClosed) return;
    event.preventDefault();
    engine
      .close()
      .catch((error: unknown) => logger.error('engine did not close cleanly', { error }))
      .finally(() => {
        isClosed = true;
        app.quit();
      });
  });
}

function fatal(error: unknown): void {
  dialog.showErrorBox('CHT Sync Desktop could not start', error instanceof Error ? error.message : String(error));
  app.exit(1);
}
