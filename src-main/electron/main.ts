// Electron main process: app lifecycle, one window, the menu, and the IPC bridge to the same
// main services the browser host uses. Bundled to dist/electron/main.cjs (scripts/build-electron.mjs);
// the renderer (dist/renderer next to it) is served on app://gatehouse/ (app-protocol.ts).
import { join } from 'node:path';
import { app, BrowserWindow, Menu, dialog, protocol, session, shell } from 'electron';
import { defaultAppHome } from '../app/home.ts';
import { buildMenuTemplate, type MenuShortcut } from './app-menu.ts';
import { electronAppPaths } from './app-paths.ts';
import { APP_INDEX_URL, handleAppProtocol, registerAppScheme } from './app-protocol.ts';
import { registerIpcBridge } from './ipc-main-bridge.ts';
import { createMainWindow, guardWebContents, hardenSession } from './main-window.ts';
import { deferredDispatcher } from '../ipc/deferred-dispatcher.ts';
import { createAppDispatcher } from './services.ts';
import { DEFAULT_EXTERNAL_HOSTS, devToolsEnabled, isAllowedExternalUrl, isLocalGatewayUrl } from './security-policy.ts';

const APP_NAME = 'Gatehouse';
const DOCS_URL = 'https://gatehouse.dev/docs/desktop';
const isMac = process.platform === 'darwin';

// __dirname is the bundle's folder (dist/electron, inside the asar when packaged) in the CommonJS
// output; the TPM addon lies outside the asar when packaged (app-paths.ts).
const paths = electronAppPaths({
  isPackaged: app.isPackaged,
  resourcesPath: process.resourcesPath,
  bundleDir: __dirname,
});
const appIndexUrl = APP_INDEX_URL;
const preloadPath = paths.preloadPath;
// Electron's rule: privileges are granted before 'ready', or the scheme is not standard/secure.
registerAppScheme(protocol);

app.setName(APP_NAME);
// GATEHOUSE_HOME (tests, several profiles side by side) also isolates Chromium's profile, which
// holds the single-instance lock; otherwise the OS's per-user app data dir.
// Without it, home is the same folder as Electron's own userData (see defaultAppHome).
const home = defaultAppHome();
if (process.env.GATEHOUSE_HOME?.trim()) app.setPath('userData', join(home, 'electron-profile'));
app.enableSandbox();

const devTools = devToolsEnabled(app.isPackaged, process.env);
let mainWindow: BrowserWindow | undefined;

function showMainWindow(): void {
  if (mainWindow && !mainWindow.isDestroyed()) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
    return;
  }
  mainWindow = createMainWindow({ appIndexUrl, preloadPath, devTools, allowedExternalHosts: DEFAULT_EXTERNAL_HOSTS });
  mainWindow.on('closed', () => {
    mainWindow = undefined;
  });
}

function openDocs(): void {
  if (!isAllowedExternalUrl(DOCS_URL)) return;
  shell.openExternal(DOCS_URL).catch((err: unknown) => console.error('gatehouse: could not open docs', err));
}

/** A Go menu click: the keys go to the page as if typed, where the renderer's shortcut handler runs them. */
function pressInPage(keys: MenuShortcut): void {
  const contents = mainWindow?.webContents;
  if (!contents) return;
  contents.sendInputEvent({ type: 'keyDown', keyCode: keys.keyCode, modifiers: keys.modifiers });
  contents.sendInputEvent({ type: 'keyUp', keyCode: keys.keyCode, modifiers: keys.modifiers });
}

function openAbout(): void {
  const options = {
    type: 'info' as const,
    title: `About ${APP_NAME}`,
    message: `${APP_NAME} ${app.getVersion()}`,
    detail: `Electron ${process.versions.electron}, Chromium ${process.versions.chrome}, Node ${process.versions.node}`,
  };
  const shown = mainWindow ? dialog.showMessageBox(mainWindow, options) : dialog.showMessageBox(options);
  shown.catch(() => undefined);
}

async function start(): Promise<void> {
  await app.whenReady();
  handleAppProtocol(protocol, { rendererDir: paths.rendererDir });
  hardenSession(session.defaultSession);
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      buildMenuTemplate({ appName: APP_NAME, isMac, devTools, openDocs, openAbout, pressKeys: pressInPage }),
    ),
  );

  // Launch order (issue 16): the IPC bridge is registered and the window created first; the main
  // services are composed after that, while the renderer loads, and calls wait for them (deferred
  // dispatcher). The window shows on ready-to-show, i.e. when the renderer has painted.
  let composeServices!: () => void;
  const composed = new Promise<void>((r) => (composeServices = r)).then(() =>
    createAppDispatcher({
      home,
      version: app.getVersion(),
      tpmAddonPath: paths.tpmAddonPath,
      openExternal: async (url) => {
        // The contract's shell.openExternal: the same allowlist as links, never arbitrary URLs.
        if (!isAllowedExternalUrl(url)) throw new Error(`links to ${new URL(url).host} are not opened`);
        await shell.openExternal(url);
      },
      openLocalUrl: async (url) => {
        // Launch on a web app: only the gateway's own http://localhost:PORT/, in the OS browser.
        if (!isLocalGatewayUrl(url)) throw new Error(`${url} is not an app gateway's address`);
        await shell.openExternal(url);
      },
    }),
  );
  const dispatcher = deferredDispatcher(
    composed.then((c) => c.dispatcher),
    { error: (msg, fields) => console.error(`gatehouse: ${msg}`, fields) },
  );
  const close = () => composed.then((c) => c.close());
  const unregister = registerIpcBridge(dispatcher, appIndexUrl);

  let disposed = false;
  app.on('before-quit', (event) => {
    if (disposed) return;
    // Close terminals (ends remote sessions) before the process goes away.
    event.preventDefault();
    disposed = true;
    unregister();
    close()
      .catch((err: unknown) => console.error('gatehouse: shutdown', err))
      .finally(() => app.quit());
  });

  showMainWindow();
  // One turn of the event loop first, so the window's creation is under way before main is busy.
  setImmediate(composeServices);
  // As when they were composed before the window: services that cannot start end the app.
  composed.catch((err: unknown) => {
    console.error('gatehouse: failed to start', err);
    dialog.showErrorBox(`${APP_NAME} could not start`, err instanceof Error ? err.message : String(err));
    app.exit(1);
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) showMainWindow();
  });
}

if (!app.requestSingleInstanceLock()) {
  // Another Gatehouse is running with this profile: it gets focus (second-instance), we leave.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (app.isReady()) showMainWindow();
  });
  app.on('web-contents-created', (_event, wc) => {
    guardWebContents(wc, { appIndexUrl, allowedExternalHosts: DEFAULT_EXTERNAL_HOSTS });
  });
  app.on('window-all-closed', () => {
    if (!isMac) app.quit();
  });
  start().catch((err: unknown) => {
    console.error('gatehouse: failed to start', err);
    dialog.showErrorBox(`${APP_NAME} could not start`, err instanceof Error ? err.message : String(err));
    app.exit(1);
  });
}
