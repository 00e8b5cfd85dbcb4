import { createContext, useContext } from 'react';
import type { EngineClient } from '../app/contract/client';

/** The one EngineClient of this window (Electron IPC or HTTP): every screen talks through it. */
export const ClientContext = createContext<EngineClient | null>(null);

export function useClient(): EngineClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useClient outside <ClientContext.Provider>');
  return client;
}
