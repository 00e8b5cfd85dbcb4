import { ClientError, type EngineClient } from '../contract';
import type { Engine } from '../engine/types';
import { invokeHandler } from '../engine/invoke-handler';

/** The EngineClient for the CLI and tests: same validation and wire errors as the other transports. */
export function createInProcessClient(engine: Pick<Engine, 'handlers' | 'events'>): EngineClient {
  return {
    async invoke(method, args) {
      // A JSON round trip gives in-process callers exactly what IPC/HTTP callers get (no shared references).
      const wire = await invokeHandler(engine, method, JSON.parse(JSON.stringify(args ?? {})) as unknown);
      if (!wire.ok) throw new ClientError(wire.error);
      return JSON.parse(JSON.stringify(wire.value ?? null)) as never;
    },
    on(event, listener) {
      return engine.events.on(event, listener);
    },
  } satisfies EngineClient;
}
