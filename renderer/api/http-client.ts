import { ClientError, type EngineClient, type Wire } from '../../app/contract/client';
import { EVENT_NAMES, type EventMap, type EventName } from '../../app/contract/events';

export interface HttpClientOptions {
  /** For scripts outside the browser; a page loaded from `cht-sync serve` authenticates with its cookie. */
  token?: string;
  fetch?: typeof fetch;
  EventSource?: typeof EventSource;
}

/**
 * The EngineClient over `cht-sync serve`: `POST /api/invoke/:method` for calls and
 * one shared EventSource on `/api/events` for events, opened on the first
 * subscription and closed with the last.
 */
export function createHttpClient(baseUrl: string, options: HttpClientOptions = {}): EngineClient {
  const base = baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let source: EventSource | null = null;

  function openStream(): void {
    if (source) return;
    const Source = options.EventSource ?? globalThis.EventSource;
    source = new Source(`${base}/api/events`, { withCredentials: false });
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (message: Event) => {
        const data = (message as { data?: unknown }).data;
        if (typeof data !== 'string') return;
        let payload: unknown;
        try {
          payload = JSON.parse(data) as unknown;
        } catch {
          return;
        }
        for (const listener of [...(listeners.get(name) ?? [])]) listener(payload);
      });
    }
  }

  function closeStreamIfUnused(): void {
    const isUsed = [...listeners.values()].some((set) => set.size > 0);
    if (!isUsed && source) {
      source.close();
      source = null;
    }
  }

  return {
    async invoke(method, args) {
      let response: Response;
      try {
        response = await doFetch(`${base}/api/invoke/${encodeURIComponent(method)}`, {
          method: 'POST',
          credentials: 'same-origin',
          headers: {
            'content-type': 'application/json',
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          },
          body: JSON.stringify(args ?? {}),
        });
      } catch {
        throw new ClientError({
          code: 'INTERNAL',
          message: 'The app’s local server is not answering. Check that `cht-sync serve` is still running.',
          retryable: true,
        });
      }
      let wire: Wire<unknown>;
      try {
        wire = (await response.json()) as Wire<unknown>;
      } catch {
        throw new ClientError({
          code: 'INTERNAL',
          message: `The app’s local server sent an unreadable answer (HTTP ${response.status}).`,
          retryable: true,
        });
      }
      if (!wire.ok) throw new ClientError(wire.error);
      return wire.value as never;
    },
    on<E extends EventName>(event: E, listener: (payload: EventMap[E]) => void) {
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      const stored = listener as (payload: unknown) => void;
      set.add(stored);
      openStream();
      return () => {
        set.delete(stored);
        closeStreamIfUnused();
      };
    },
  } satisfies EngineClient;
}
