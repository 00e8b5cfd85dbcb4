import type { WireError } from './errors';
import type { EventMap, EventName } from './events';
import type { MethodArgs, MethodName, MethodResult } from './methods';

/** What crosses every transport: never a thrown exception. */
export type Wire<T> = { ok: true; value: T } | { ok: false; error: WireError };

/**
 * The one interface the renderer talks to. Implemented over Electron IPC,
 * over HTTP + server-sent events, and in-process (CLI and tests).
 */
export interface EngineClient {
  invoke<M extends MethodName>(method: M, args: MethodArgs<M>): Promise<MethodResult<M>>;
  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void;
}

/** The error an EngineClient rejects with; carries the wire error unchanged. */
export class ClientError extends Error {
  readonly code: WireError['code'];
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;
  constructor(readonly wire: WireError) {
    super(wire.message);
    this.name = 'ClientError';
    this.code = wire.code;
    this.retryable = wire.retryable;
    this.details = wire.details;
  }
}
