// Entry point: find the API (Electron preload or the browser host's WebSocket), build the stores
// for this window, render. If there is no way to reach the app, say so on the page.
import { createRoot } from 'react-dom/client';
import { getApi } from './bridge/get-api.ts';
import { createAppStores } from './stores/app-stores.ts';
import { App } from './ui/app.tsx';
import { removeLaunchShell } from './ui/launch-shell.ts';
import { StoresProvider } from './ui/stores-context.tsx';
import './styles/tokens.css';
import './styles/base.css';
import './styles/app.css';
import './styles/terminal.css';
import './styles/databases.css';
import './styles/apps.css';
import './styles/ux.css';

const root = createRoot(document.getElementById('root')!);

getApi().then(
  ({ api, onLost }) => {
    // Launch on a web app: where main cannot open the browser (the browser host), this page is a
    // browser tab and opens the app's gateway in a new one. noopener: the app gets no handle on us.
    const openInNewTab = (url: string) => void window.open(url, '_blank', 'noopener,noreferrer');
    // localStorage remembers the open tabs per cluster (descriptors only) for "Reopen tabs".
    const stores = createAppStores(api, (m) => console.warn(`gatehouse: ${m}`), openInNewTab, window.localStorage);
    onLost((message) => stores.ui.getState().setConnectionLost(message));
    root.render(
      <StoresProvider stores={stores}>
        <App />
      </StoresProvider>,
    );
  },
  (err: unknown) => {
    // The host's launch shell (if any) would hide this page's message; nothing can log in anyway.
    removeLaunchShell();
    root.render(
      <div className="app">
        <main className="centered-page">
          <div className="card card-narrow">
            <h1>Can&apos;t reach the Gatehouse app</h1>
            <div role="alert" className="alert">
              <p className="alert-message">{err instanceof Error ? err.message : String(err)}</p>
            </div>
          </div>
        </main>
      </div>,
    );
  },
);
