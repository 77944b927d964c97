// The renderer's only door to the main process: the Electron preload's `window.gatehouse`, or,
// in a plain browser, the bridge to the browser host.
import type { GatehouseApi } from '../../src-main/ipc/contract.ts';
import { connectBrowserBridge } from './browser-bridge.ts';

declare global {
  interface Window {
    /** Put there by the Electron preload (contextBridge). Absent under the browser host. */
    gatehouse?: GatehouseApi;
  }
}

export interface ApiHandle {
  api: GatehouseApi;
  /** Runs when the connection to the main process is gone for good (browser host only). */
  onLost(listener: (message: string) => void): () => void;
}

export async function getApi(win: Window = window): Promise<ApiHandle> {
  if (win.gatehouse) return { api: win.gatehouse, onLost: () => () => {} };
  return connectBrowserBridge(win);
}
