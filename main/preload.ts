import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type ChtSyncBridge } from '../app/contract/bridge';
import type { Wire } from '../app/contract/client';

// Sandboxed preload: bundled into one file (dist/main/preload.cjs); exposes exactly { invoke, on, version }.
const versionArg = process.argv.find((a) => a.startsWith('--cht-sync-version='));

const bridge: ChtSyncBridge = {
  invoke: (method: string, args: unknown) =>
    ipcRenderer.invoke(IPC_INVOKE_CHANNEL, method, args) as Promise<Wire<unknown>>,
  on: (event: string, listener: (payload: unknown) => void) => {
    // The page never sees the IPC event object (it would expose ipcRenderer's sender).
    const handler = (_e: IpcRendererEvent, name: unknown, payload: unknown): void => {
      if (name === event) listener(payload);
    };
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, handler);
    };
  },
  version: versionArg ? versionArg.slice('--cht-sync-version='.length) : 'unknown',
};

contextBridge.exposeInMainWorld('chtSync', bridge);
