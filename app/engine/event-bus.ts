import type { EventMap, EventName } from '../contract';
import type { Logger } from '../core/logger';
import type { EngineEvents } from './types';

/** Fan-out of engine events to every connected UI; a failing listener never breaks the engine. */
export class EventBus implements EngineEvents {
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>();
  constructor(private readonly logger: Logger) {}

  on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const stored = listener as (payload: never) => void;
    set.add(stored);
    return () => {
      set.delete(stored);
    };
  }

  emit<E extends EventName>(event: E, payload: EventMap[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (p: EventMap[E]) => void)(payload);
      } catch (error) {
        this.logger.warn('event listener failed', { event, error });
      }
    }
  }
}
