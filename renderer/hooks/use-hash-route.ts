import { useEffect, useState } from 'react';

export type Route =
  | { screen: 'dashboard' }
  | { screen: 'history'; runId: number | null }
  | { screen: 'data' }
  | { screen: 'charts' }
  | { screen: 'settings' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  switch (parts[0]) {
    case 'history': {
      const id = Number(parts[1]);
      return { screen: 'history', runId: Number.isInteger(id) && parts[1] ? id : null };
    }
    case 'data':
      return { screen: 'data' };
    case 'charts':
      return { screen: 'charts' };
    case 'settings':
      return { screen: 'settings' };
    default:
      return { screen: 'dashboard' };
  }
}

/** Hash routes keep links, the back button and reloads working in both Electron and a browser. */
export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
