// Connects to the browser host over its WebSocket (see .notes/desktop-app-spec.md, "Browser host
// wire protocol") and exposes the same GatehouseApi the Electron preload does.
import type { GatehouseApi } from '../../src-main/ipc/contract.ts';
import { ipcSocketUrl, splitLaunchToken } from './launch-token.ts';
import { createWireClient } from './wire-client.ts';

const TOKEN_KEY = 'gatehouse.launchToken';

export interface BrowserBridge {
  api: GatehouseApi;
  onLost(listener: (message: string) => void): () => void;
}

export class BridgeConnectError extends Error {
  override readonly name = 'BridgeConnectError';
}

/** Reads (and hides) the launch token, opens the socket, resolves once it is open. */
export function connectBrowserBridge(win: Window = window): Promise<BrowserBridge> {
  const { token: fromHash, restHash } = splitLaunchToken(win.location.hash);
  if (fromHash) {
    try {
      win.sessionStorage.setItem(TOKEN_KEY, fromHash);
    } catch {
      // Storage can be disabled; then a reload needs the printed link again.
    }
    const { pathname, search } = win.location;
    win.history.replaceState(win.history.state, '', `${pathname}${search}${restHash}`);
  }
  let token = fromHash;
  if (!token) {
    try {
      token = win.sessionStorage.getItem(TOKEN_KEY) ?? undefined;
    } catch {
      token = undefined;
    }
  }
  if (!token) {
    return Promise.reject(
      new BridgeConnectError(
        'This page was opened without its access token. Open the exact link the Gatehouse app printed (it ends in #token=…).',
      ),
    );
  }

  return new Promise((resolve, reject) => {
    const socket = new WebSocket(ipcSocketUrl(win.location.href, token));
    // Terminal output arrives as binary frames; an ArrayBuffer is read synchronously (a Blob is not).
    socket.binaryType = 'arraybuffer';
    const client = createWireClient({
      send: (frame) => socket.send(frame),
      warn: (message) => console.warn(`gatehouse bridge: ${message}`),
    });
    let opened = false;
    socket.addEventListener('open', () => {
      opened = true;
      resolve({ api: client.api, onLost: client.onLost });
    });
    socket.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data === 'string' || event.data instanceof ArrayBuffer) client.receive(event.data);
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      if (!opened) {
        try {
          win.sessionStorage.removeItem(TOKEN_KEY);
        } catch {
          // ignore: nothing to clean up
        }
        reject(
          new BridgeConnectError(
            'The Gatehouse app refused this page or is not running. Start it again and open the link it prints.',
          ),
        );
        return;
      }
      client.fail(event.reason || `socket closed (${event.code})`);
    });
  });
}
