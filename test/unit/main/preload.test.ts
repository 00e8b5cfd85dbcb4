import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import vm from 'node:vm';
import { build } from 'esbuild';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../../../app/contract/bridge';

/**
 * Bundles main/preload.ts as the build does (one file, only `electron` external) and runs it
 * in a bare VM context whose `require('electron')` is a recording stand-in: what the page
 * receives is exactly what contextBridge was given.
 */
async function loadPreload() {
  const out = await build({
    entryPoints: ['main/preload.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['electron'],
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.text;
  const exposed: Record<string, unknown> = {};
  const invoked: unknown[][] = [];
  const handlers = new Map<string, ((event: unknown, ...args: unknown[]) => void)[]>();
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
    ipcRenderer: {
      invoke: async (...args: unknown[]) => {
        invoked.push(args);
        return { ok: true, value: null };
      },
      on: (channel: string, h: (event: unknown, ...args: unknown[]) => void) =>
        handlers.set(channel, [...(handlers.get(channel) ?? []), h]),
      removeListener: (channel: string, h: (event: unknown, ...args: unknown[]) => void) =>
        handlers.set(
          channel,
          (handlers.get(channel) ?? []).filter((x) => x !== h),
        ),
    },
  };
  const requireStub = (name: string): unknown => {
    if (name === 'electron') return electron;
    throw new Error(`the preload must not require ${name}`);
  };
  const module = { exports: {} };
  vm.runInNewContext(code, {
    require: requireStub,
    module,
    exports: module.exports,
    process: { argv: ['electron', '--cht-sync-version=4.5.6'] },
  });
  const emit = (...args: unknown[]): void => {
    for (const h of handlers.get(IPC_EVENT_CHANNEL) ?? []) h({ sender: 'ipc internals' }, ...args);
  };
  return { exposed, invoked, handlers, emit };
}

describe('preload bundle', () => {
  it('exposes exactly { invoke, on, version } as window.chtSync and requires nothing but electron', async () => {
    const { exposed } = await loadPreload();
    assert.deepEqual(Object.keys(exposed), ['chtSync']);
    const bridge = exposed.chtSync as Record<string, unknown>;
    assert.deepEqual(Object.keys(bridge).sort(), ['invoke', 'on', 'version']);
    assert.equal(bridge.version, '4.5.6');
  });

  it('invokes on the one channel and delivers only the subscribed event, without the IPC event object', async () => {
    const { exposed, invoked, handlers, emit } = await loadPreload();
    const bridge = exposed.chtSync as {
      invoke(m: string, a: unknown): Promise<unknown>;
      on(e: string, l: (p: unknown) => void): () => void;
    };
    await bridge.invoke('app.info', {});
    assert.deepEqual(invoked, [[IPC_INVOKE_CHANNEL, 'app.info', {}]]);
    const got: unknown[][] = [];
    const off = bridge.on('run.finished', (...args: unknown[]) => got.push(args));
    emit('run.finished', { id: 1 });
    emit('sync.progress', { database: 'medic' });
    assert.deepEqual(got, [[{ id: 1 }]]);
    off();
    assert.equal(handlers.get(IPC_EVENT_CHANNEL)?.length, 0);
  });
});
