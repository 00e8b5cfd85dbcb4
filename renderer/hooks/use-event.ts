import { useEffect, useRef } from 'react';
import type { EventMap, EventName } from '../../app/contract/events';
import { useClient } from '../client-context';

/** Subscribe to an engine event for the component's lifetime; the latest handler is always used. */
export function useEvent<E extends EventName>(event: E, handler: (payload: EventMap[E]) => void): void {
  const client = useClient();
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => client.on(event, (payload) => ref.current(payload)), [client, event]);
}
