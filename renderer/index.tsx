import { createRoot } from 'react-dom/client';
import type { EngineClient } from '../app/contract/client';
import { createElectronClient, electronBridge } from './api/electron-client';
import { createHttpClient } from './api/http-client';
import { App } from './app';
import { ClientContext } from './client-context';
import './styles.css';

/**
 * Inside the desktop app the preload exposes window.chtSync; in a browser the host serves UI and
 * API under the page's own folder (`/s/<instance>/`, where its session cookie is valid).
 */
function pickClient(): EngineClient {
  const bridge = electronBridge();
  return bridge
    ? createElectronClient(bridge)
    : createHttpClient(window.location.origin + window.location.pathname.replace(/[^/]*$/, ''));
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <ClientContext.Provider value={pickClient()}>
    <App />
  </ClientContext.Provider>,
);
