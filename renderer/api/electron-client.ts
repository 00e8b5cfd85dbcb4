import type { ChtSyncBridge } from '../../app/contract/bridge';
import { ClientError, type EngineClient } from '../../app/contract/client';
import type { EventMap, EventName } from '../../app/contract/events';

/** The EngineClient over the Electron preload's `window.chtSync` bridge. */
export function createElectronClient(bridge: ChtSyncBridge): EngineClient {
  return {
    async invoke(method, args) {
      const wire = await bridge.invoke(method, args ?? {});
      if (!wire.ok) throw new ClientError(wire.error);
      return wire.value as never;
    },
    on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void) {
      return bridge.on(event, listener as (payload: unknown) => void);
    },
  } satisfies EngineClient;
}

/** The bridge when running inside the desktop app, else null (the page was served over HTTP). */
export function electronBridge(): ChtSyncBridge | null {
  const candidate = (globalThis as { chtSync?: ChtSyncBridge }).chtSync;
  return candidate && typeof candidate.invoke === 'function' ? candidate : null;
}
