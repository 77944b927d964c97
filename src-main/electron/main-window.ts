// The one main window and the guards every web contents gets: no new windows, no navigation away
// from the app, no <webview>, no permissions. The app's pages come from app:// (app-protocol.ts),
// whose handler sends the CSP; any file:// document gets a policy under which nothing runs.
import { BrowserWindow, shell, type Session, type WebContents } from 'electron';
import { requestChannels } from '../ipc/contract.ts';
import { channelsArgument } from './bridge-protocol.ts';
import {
  decideNavigation,
  decideWindowOpen,
  isAppUrl,
  withAppCsp,
  type NavigationDecision,
} from './security-policy.ts';

export interface WindowOptions {
  appIndexUrl: string;
  preloadPath: string;
  devTools: boolean;
  allowedExternalHosts: readonly string[];
}

const LOCAL_FILE_CSP = "default-src 'none'; sandbox";

function openExternally(decision: NavigationDecision): void {
  if (decision.action !== 'open-external') return;
  shell.openExternal(decision.url).catch((err: unknown) => console.error('gatehouse: could not open link', err));
}

/** Session-wide: no file:// document runs anything, every permission request and check denied. */
export function hardenSession(ses: Session): void {
  // The app never loads file:// (it is served from app://); should anything navigate a frame to a
  // local file, that document gets the strictest policy.
  ses.webRequest.onHeadersReceived({ urls: ['file://*/*'] }, (details, callback) => {
    if (details.resourceType === 'mainFrame' || details.resourceType === 'subFrame') {
      callback({ responseHeaders: withAppCsp(details.responseHeaders, LOCAL_FILE_CSP) });
    } else {
      callback({});
    }
  });
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  // Downloads have no place in this app (a link to a file would otherwise save it silently).
  ses.on('will-download', (event) => event.preventDefault());
}

/** Per web contents (the app window and anything that might appear later). */
export function guardWebContents(
  wc: WebContents,
  opts: Pick<WindowOptions, 'appIndexUrl' | 'allowedExternalHosts'>,
): void {
  wc.setWindowOpenHandler(({ url }) => {
    openExternally(decideWindowOpen(url, opts.allowedExternalHosts));
    return { action: 'deny' };
  });
  wc.on('will-navigate', (event) => {
    const decision = decideNavigation(event.url, opts.appIndexUrl, opts.allowedExternalHosts);
    if (decision.action === 'allow') return;
    event.preventDefault();
    openExternally(decision);
  });
  // Sub-frames may not navigate anywhere (the app has none; an injected one gets nothing).
  wc.on('will-frame-navigate', (event) => {
    if (!event.isMainFrame) event.preventDefault();
  });
  wc.on('will-redirect', (event) => {
    if (!isAppUrl(event.url, opts.appIndexUrl)) event.preventDefault();
  });
  wc.on('will-attach-webview', (event) => event.preventDefault());
}

export function createMainWindow(opts: WindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 640,
    minHeight: 420,
    title: 'Gatehouse',
    show: false,
    backgroundColor: '#ffffff',
    webPreferences: {
      preload: opts.preloadPath,
      additionalArguments: [channelsArgument(requestChannels)],
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: opts.devTools,
    },
  });
  // guardWebContents runs for every web contents from app 'web-contents-created' (main.ts),
  // this window's included, so it is not repeated here.
  win.once('ready-to-show', () => win.show());
  win.loadURL(opts.appIndexUrl).catch((err: unknown) => {
    console.error(`gatehouse: could not load ${opts.appIndexUrl} (run "npm run build:renderer"?)`, err);
  });
  return win;
}
