// The seam between the Electron shell and the main services: composes them (src-main/app) with
// the Electron-specific pieces passed in, and wraps them in the transport-neutral dispatcher.
import { composeServices } from '../app/compose.ts';
import { consoleLogger } from '../app/logger.ts';
import { createIpcDispatcher, type IpcDispatcher } from '../ipc/dispatcher.ts';

export interface AppDispatcherOptions {
  /** App data dir: profiles, keys (0600), pinned proxy CAs. */
  home: string;
  version: string;
  openExternal(url: string): Promise<void>;
  /** Opens an app gateway's http://localhost:PORT/ in the user's browser (Launch). */
  openLocalUrl(url: string): Promise<void>;
  /** The TPM addon's file: the packaged app's resources dir, or the repository's build (app-paths.ts). */
  tpmAddonPath: string;
}

export function createAppDispatcher(opts: AppDispatcherOptions): {
  dispatcher: IpcDispatcher;
  /** Ends the terminals (and so the remote sessions) and closes cluster connections. */
  close(): Promise<void>;
} {
  const services = composeServices({
    home: opts.home,
    host: 'electron',
    version: opts.version,
    openExternal: opts.openExternal,
    openLocalUrl: opts.openLocalUrl,
    tpmAddonPath: opts.tpmAddonPath,
    // The shared logger (pino, secrets redacted) writing synchronously to stderr: no transport, so
    // no worker thread in the Electron main process.
    logger: consoleLogger(process.env.GATEHOUSE_DEBUG ? 'debug' : 'info'),
  });
  return { dispatcher: createIpcDispatcher(services), close: () => services.close() };
}
