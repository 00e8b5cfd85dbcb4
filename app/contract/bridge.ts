import type { Wire } from './client';

/**
 * What the Electron preload exposes to the page as `window.chtSync`, and all it
 * exposes: one invoke (answered with a wire value, never a thrown error), one
 * event subscription, and the app version.
 */
export interface ChtSyncBridge {
  invoke(method: string, args: unknown): Promise<Wire<unknown>>;
  on(event: string, listener: (payload: unknown) => void): () => void;
  readonly version: string;
}

/** The IPC channel names shared by main/ipc.ts and main/preload.ts. */
export const IPC_INVOKE_CHANNEL = 'cht-sync:invoke';
export const IPC_EVENT_CHANNEL = 'cht-sync:event';
