import { EVENT_NAMES, type EventName, type Wire } from '../app/contract';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../app/contract/bridge';
import { isAppUrl } from './app-origin';

export interface IpcMainLike {
  handle(
    channel: string,
    listener: (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => Promise<unknown>,
  ): void;
  removeHandler(channel: string): void;
}

export interface IpcDeps {
  ipcMain: IpcMainLike;
  /** The engine's validated entry point (invokeHandler bound to the engine). */
  invoke(method: string, args: unknown): Promise<Wire<unknown>>;
  events: { on(event: EventName, listener: (payload: unknown) => void): () => void };
  /** Every live window's webContents, for event fan-out. */
  targets(): { send(channel: string, ...args: unknown[]): void; isDestroyed(): boolean }[];
}

/**
 * One invoke channel for the whole API. The sender must be a frame of the app's
 * own page (parsed origin, not a substring); anything else gets a refusal
 * without reaching the engine. Engine events go to every window on one channel.
 */
export function setupIpc(deps: IpcDeps): () => void {
  deps.ipcMain.handle(IPC_INVOKE_CHANNEL, async (event, method, args) => {
    if (!isAppUrl(event.senderFrame?.url)) {
      return {
        ok: false,
        error: {
          code: 'INVALID_ARGUMENT',
          message: 'Refused: this request did not come from the app’s own page.',
          retryable: false,
        },
      } satisfies Wire<never>;
    }
    if (typeof method !== 'string') {
      return {
        ok: false,
        error: { code: 'INVALID_ARGUMENT', message: 'The method name must be a string.', retryable: false },
      } satisfies Wire<never>;
    }
    return deps.invoke(method, args);
  });
  const unsubscribe = EVENT_NAMES.map((name) =>
    deps.events.on(name, (payload) => {
      for (const target of deps.targets()) if (!target.isDestroyed()) target.send(IPC_EVENT_CHANNEL, name, payload);
    }),
  );
  return () => {
    deps.ipcMain.removeHandler(IPC_INVOKE_CHANNEL);
    for (const off of unsubscribe) off();
  };
}
