import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { BrowserWindowConstructorOptions, HandlerDetails, WindowOpenHandlerResponse } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../../../app/contract/bridge';
import { EventBus } from '../../../app/engine/event-bus';
import { silentLogger } from '../../../app/core/logger';
import { APP_START_URL, isAppUrl, isSafeExternalUrl, originOf } from '../../../main/app-origin';
import { setupIpc, type IpcMainLike } from '../../../main/ipc';
import { resolveAppFile } from '../../../main/protocol';
import { createSafeSecretStore } from '../../../main/secrets';
import { setupTray, trayMenuTemplate } from '../../../main/tray';
import { createMainWindow, secureWebContents, type WebContentsLike } from '../../../main/window';

/** A stand-in for Electron's webContents that records the handlers the shell installs. */
function fakeContents() {
  const listeners = new Map<string, ((event: { preventDefault(): void }, url: string) => void)[]>();
  let openHandler: ((d: HandlerDetails) => WindowOpenHandlerResponse) | null = null;
  const contents: WebContentsLike = {
    setWindowOpenHandler: (h) => {
      openHandler = h;
    },
    on: (event: string, l: (event: { preventDefault(): void }, url: string) => void) => {
      listeners.set(event, [...(listeners.get(event) ?? []), l]);
      return contents;
    },
  } as WebContentsLike;
  const fire = (event: string, url = ''): boolean => {
    let prevented = false;
    for (const l of listeners.get(event) ?? []) l({ preventDefault: () => (prevented = true) }, url);
    return prevented;
  };
  return { contents, fire, open: (url: string) => openHandler!({ url } as HandlerDetails) };
}

function fakeShell() {
  const opened: string[] = [];
  return { opened, shell: { openExternal: async (url: string) => void opened.push(url) } };
}

describe('app origin', () => {
  it('compares parsed origins, never substrings', () => {
    assert.equal(originOf(APP_START_URL), 'app://cht-sync');
    assert.ok(isAppUrl('app://cht-sync/index.html#/history'));
    assert.ok(!isAppUrl('app://cht-sync.evil.example/index.html'));
    assert.ok(!isAppUrl('https://evil.example/app://cht-sync/'));
    assert.ok(!isAppUrl('file:///app://cht-sync'));
    assert.ok(!isAppUrl('not a url'));
    assert.ok(isSafeExternalUrl('https://docs.communityhealthtoolkit.org/'));
    assert.ok(!isSafeExternalUrl('http://example.org'));
    assert.ok(!isSafeExternalUrl('file:///etc/passwd'));
    assert.ok(!isSafeExternalUrl('javascript:alert(1)'));
    assert.ok(!isSafeExternalUrl('https://user:pw@example.org'));
  });
});

describe('main window', () => {
  it('is created with the security baseline and loads the app origin', () => {
    let options: BrowserWindowConstructorOptions | null = null;
    let loaded = '';
    const { contents } = fakeContents();
    class FakeWindow {
      webContents = contents;
      constructor(o: BrowserWindowConstructorOptions) {
        options = o;
      }
      async loadURL(url: string) {
        loaded = url;
      }
      on() {
        return this;
      }
      once() {
        return this;
      }
      show() {}
      hide() {}
      focus() {}
      isMinimized() {
        return false;
      }
      restore() {}
    }
    createMainWindow(
      { BrowserWindow: FakeWindow, shell: fakeShell().shell },
      { preloadPath: '/x/preload.cjs', version: '1.2.3', isQuitting: () => false },
    );
    const web = (options as BrowserWindowConstructorOptions | null)?.webPreferences;
    assert.ok(web);
    assert.equal(web.sandbox, true);
    assert.equal(web.contextIsolation, true);
    assert.equal(web.nodeIntegration, false);
    assert.equal(web.webSecurity, true);
    assert.equal(web.webviewTag, false);
    assert.equal(web.allowRunningInsecureContent, false);
    assert.equal(web.preload, '/x/preload.cjs');
    assert.deepEqual(web.additionalArguments, ['--cht-sync-version=1.2.3']);
    assert.equal(loaded, APP_START_URL);
  });

  it('closing hides the window (tray mode) unless quitting', () => {
    const handlers: Record<string, (e: { preventDefault(): void }) => void> = {};
    let hidden = 0;
    let quitting = false;
    class FakeWindow {
      webContents = fakeContents().contents;
      async loadURL() {}
      on(event: string, l: (e: { preventDefault(): void }) => void) {
        handlers[event] = l;
        return this;
      }
      once() {
        return this;
      }
      show() {}
      hide() {
        hidden++;
      }
      focus() {}
      isMinimized() {
        return false;
      }
      restore() {}
    }
    createMainWindow(
      { BrowserWindow: FakeWindow, shell: fakeShell().shell },
      { preloadPath: 'p', version: 'v', isQuitting: () => quitting },
    );
    let prevented = false;
    handlers.close!({ preventDefault: () => (prevented = true) });
    assert.equal(prevented, true);
    assert.equal(hidden, 1);
    quitting = true;
    prevented = false;
    handlers.close!({ preventDefault: () => (prevented = true) });
    assert.equal(prevented, false);
  });

  it('denies window.open, opening only https links externally', () => {
    const { contents, open } = fakeContents();
    const { shell, opened } = fakeShell();
    secureWebContents(contents, { shell });
    assert.deepEqual(open('https://docs.communityhealthtoolkit.org/'), { action: 'deny' });
    assert.deepEqual(open('http://plain.example/'), { action: 'deny' });
    assert.deepEqual(open('file:///etc/passwd'), { action: 'deny' });
    assert.deepEqual(open('app://cht-sync/index.html'), { action: 'deny' });
    assert.deepEqual(opened, ['https://docs.communityhealthtoolkit.org/']);
  });

  it('prevents navigation off the app origin, allows it within', () => {
    const { contents, fire } = fakeContents();
    const { shell, opened } = fakeShell();
    secureWebContents(contents, { shell });
    assert.equal(fire('will-navigate', 'app://cht-sync/index.html#/data'), false);
    assert.equal(fire('will-navigate', 'https://evil.example/'), true);
    assert.equal(fire('will-navigate', 'app://cht-sync.evil.example/'), true);
    assert.equal(fire('will-redirect', 'http://127.0.0.1:5984/'), true);
    assert.equal(fire('will-attach-webview'), true);
    assert.deepEqual(opened, ['https://evil.example/']);
  });

  it('installs its rules once per webContents, however often it is applied', () => {
    const { contents, fire } = fakeContents();
    const { shell, opened } = fakeShell();
    secureWebContents(contents, { shell });
    secureWebContents(contents, { shell });
    fire('will-navigate', 'https://docs.communityhealthtoolkit.org/');
    assert.equal(opened.length, 1);
  });
});

describe('ipc', () => {
  function setup() {
    let handler: Parameters<IpcMainLike['handle']>[1] | null = null;
    const calls: [string, unknown][] = [];
    const sent: unknown[][] = [];
    const bus = new EventBus(silentLogger);
    const stop = setupIpc({
      ipcMain: {
        handle: (channel, h) => {
          assert.equal(channel, IPC_INVOKE_CHANNEL);
          handler = h;
        },
        removeHandler: () => undefined,
      },
      invoke: async (method, args) => {
        calls.push([method, args]);
        return { ok: true, value: 'engine answered' };
      },
      events: bus,
      targets: () => [{ send: (...args: unknown[]) => void sent.push(args), isDestroyed: () => false }],
    });
    return {
      call: (url: string | null, ...args: unknown[]) =>
        handler!({ senderFrame: url === null ? null : { url } }, ...args),
      calls,
      sent,
      bus,
      stop,
    };
  }

  it('dispatches only for the app page and refuses foreign senders', async () => {
    const { call, calls } = setup();
    assert.deepEqual(await call('app://cht-sync/index.html', 'app.info', {}), { ok: true, value: 'engine answered' });
    for (const foreign of [
      'https://evil.example/',
      'app://cht-sync.evil.example/',
      'file:///tmp/x.html',
      'devtools://devtools/x',
      null,
    ]) {
      const answer = (await call(foreign, 'settings.get', {})) as { ok: boolean; error?: { code: string } };
      assert.equal(answer.ok, false, String(foreign));
      assert.equal(answer.error?.code, 'INVALID_ARGUMENT');
    }
    assert.deepEqual(calls, [['app.info', {}]]);
    const notString = (await call('app://cht-sync/index.html', 42, {})) as { ok: boolean };
    assert.equal(notString.ok, false);
  });

  it('forwards engine events to windows on one channel', () => {
    const { bus, sent, stop } = setup();
    bus.emit('settings.changed', {});
    assert.deepEqual(sent, [[IPC_EVENT_CHANNEL, 'settings.changed', {}]]);
    stop();
    bus.emit('settings.changed', {});
    assert.equal(sent.length, 1);
  });
});

describe('app protocol', () => {
  it('serves files of the renderer folder only', () => {
    const dir = '/opt/app/dist/renderer';
    assert.equal(resolveAppFile('app://cht-sync/index.js', dir), path.join(dir, 'index.js'));
    assert.equal(resolveAppFile('app://cht-sync/', dir), path.join(dir, 'index.html'));
    assert.equal(resolveAppFile('app://cht-sync/history', dir), path.join(dir, 'index.html'));
    assert.equal(resolveAppFile('app://cht-sync/..%2f..%2fsecrets.json', dir)?.startsWith(dir), true);
    assert.equal(resolveAppFile('app://other/index.js', dir), null);
    assert.equal(resolveAppFile('https://cht-sync/index.js', dir), null);
  });
});

describe('tray', () => {
  it('offers Open, Sync now, Quit', () => {
    const done: string[] = [];
    const actions = {
      open: () => void done.push('open'),
      syncNow: () => void done.push('sync'),
      quit: () => void done.push('quit'),
    };
    const template = trayMenuTemplate(actions);
    assert.deepEqual(
      template.filter((i) => i.label).map((i) => i.label),
      ['Open CHT Sync', 'Sync now', 'Quit'],
    );
    for (const item of template) (item.click as (() => void) | undefined)?.();
    assert.deepEqual(done, ['open', 'sync', 'quit']);
    let menu: unknown = null;
    const tray = setupTray(
      {
        createTray: () => ({
          setToolTip: () => undefined,
          setContextMenu: (m) => void (menu = m),
          on: () => undefined,
          destroy: () => undefined,
        }),
        buildMenu: (t) => ({ built: t.length }),
      },
      'icon.png',
      actions,
    );
    assert.ok(tray);
    assert.deepEqual(menu, { built: 4 });
  });
});

describe('safeStorage secret store', () => {
  const fakeSafe = (available: boolean) => ({
    isEncryptionAvailable: () => available,
    encryptString: (s: string) => Buffer.from(`enc:${Buffer.from(s).toString('base64')}`),
    decryptString: (b: Buffer) => Buffer.from(b.toString().slice(4), 'base64').toString(),
  });

  it('stores only ciphertext, in a 0600 file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-secrets-'));
    try {
      const store = createSafeSecretStore({
        safeStorage: fakeSafe(true),
        dataDir: dir,
        confirmPlaintext: () => assert.fail('not asked when encryption works'),
      });
      store.set('couch.password', 'hunter2-long');
      assert.equal(store.get('couch.password'), 'hunter2-long');
      const file = path.join(dir, 'secrets.safe.json');
      assert.ok(!readFileSync(file, 'utf8').includes('hunter2-long'));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      store.set('couch.password', null);
      assert.equal(store.get('couch.password'), null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses plaintext unless the user agrees', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cht-secrets-'));
    try {
      const refusing = createSafeSecretStore({
        safeStorage: fakeSafe(false),
        dataDir: dir,
        confirmPlaintext: () => false,
      });
      assert.throws(() => refusing.set('couch.password', 'pw-value'), /keychain/);
      let asked = 0;
      const agreeing = createSafeSecretStore({
        safeStorage: fakeSafe(false),
        dataDir: dir,
        confirmPlaintext: () => (asked++, true),
      });
      agreeing.set('a', 'one-value');
      agreeing.set('b', 'two-value');
      assert.equal(asked, 1, 'asked once');
      assert.equal(agreeing.get('b'), 'two-value');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
