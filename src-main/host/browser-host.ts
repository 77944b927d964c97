// The browser host: the app's main services in plain Node, reachable from a browser tab on this
// machine only. HTTP on 127.0.0.1 serves the built renderer; the WebSocket at /ipc carries the
// IPC contract. Other local processes and web pages can reach 127.0.0.1 too, so the socket needs
// the per-launch token (compared in constant time) AND the exact Origin of this host, and every
// request must name this host (no DNS rebinding); anything else is refused before the upgrade.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { AppLogger } from '../app/logger.ts';
import type { IpcDispatcher } from '../ipc/dispatcher.ts';
import { securityHeaders, serveStatic, type IndexPage } from './static-files.ts';

// process.getBuiltinModule, not an import: the ES module facade of node:http reads every export,
// and its lazy WebSocket/fetch getters then load undici (~50 ms of CPU on the way to the URL,
// measured with --cpu-prof); the CommonJS object this returns reads nothing it is not asked for.
const { createServer } = process.getBuiltinModule('node:http');

export const HOST_ADDRESS = '127.0.0.1';
export const IPC_PATH = '/ipc';

export interface BrowserHostOptions {
  dispatcher: IpcDispatcher;
  /** The built renderer (index.html + assets). */
  rendererDir: string;
  /** 0 or absent: a free port. */
  port?: number;
  logger: AppLogger;
  /** The page sent for index.html (with the launch shell); undefined or absent: the built file. */
  indexPage?: IndexPage;
}

export interface BrowserHost {
  /** What to open: http://127.0.0.1:PORT/#token=TOKEN */
  url: string;
  /** http://127.0.0.1:PORT — the only Origin the WebSocket accepts. */
  origin: string;
  port: number;
  token: string;
  /** Stops listening and closes every browser connection (the services stay up; their owner closes them). */
  close(): Promise<void>;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time: both sides are hashed first, so not even the length leaks. */
export function tokenMatches(given: string | null | undefined, expected: string): boolean {
  const same = timingSafeEqual(sha256(given ?? ''), sha256(expected));
  return same && typeof given === 'string' && given.length > 0;
}

export async function startBrowserHost(opts: BrowserHostOptions): Promise<BrowserHost> {
  const log = opts.logger;
  if (!existsSync(join(opts.rendererDir, 'index.html'))) {
    throw new GatehouseError(
      ErrorCode.CONFIG,
      `no built renderer in ${opts.rendererDir} (index.html missing); build it with "npx vite build"`,
    );
  }
  const root = realpathSync(opts.rendererDir);
  const token = randomBytes(32).toString('base64url');
  let port = 0;
  // The WebSocket side (ws, and the bridge with its zod frame schemas: ~65 ms of CPU on a small
  // machine) loads after the server listens, while the browser fetches the page: the first
  // upgrade comes only once the page's script runs (issue 16, launch).
  let loadSocketSide: () => void;
  const socketSide = new Promise<void>((r) => (loadSocketSide = r)).then(async () => {
    const [{ WebSocketServer }, { bridgeConnection }] = await Promise.all([import('ws'), import('./ws-bridge.ts')]);
    return {
      wss: new WebSocketServer({ noServer: true, maxPayload: 4 << 20, perMessageDeflate: false }),
      bridgeConnection,
    };
  });

  const hostOk = (req: IncomingMessage) => req.headers.host === `${HOST_ADDRESS}:${port}`;

  const server: Server = createServer((req, res) => {
    if (!hostOk(req)) {
      res.writeHead(403, { ...securityHeaders(port), 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`open http://${HOST_ADDRESS}:${port}/ instead\n`);
      return;
    }
    serveStatic(req, res, root, port, opts.indexPage);
  });

  const refuseUpgrade = (socket: Duplex, status: 403 | 404, why: string) => {
    log.warn('refused a WebSocket connection', { reason: why });
    socket.end(
      `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
    socket.destroy();
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', `http://${HOST_ADDRESS}:${port}`);
    if (url.pathname !== IPC_PATH) return refuseUpgrade(socket, 404, 'unknown path');
    if (!hostOk(req)) return refuseUpgrade(socket, 403, 'wrong Host header');
    if (req.headers.origin !== `http://${HOST_ADDRESS}:${port}`) return refuseUpgrade(socket, 403, 'wrong Origin');
    if (!tokenMatches(url.searchParams.get('token'), token)) return refuseUpgrade(socket, 403, 'wrong token');
    socketSide.then(
      ({ wss, bridgeConnection }) =>
        wss.handleUpgrade(req, socket, head, (ws) => {
          log.info('browser connected');
          bridgeConnection(ws, opts.dispatcher, log);
        }),
      (e: unknown) => {
        log.error('the WebSocket side failed to load', { error: (e as Error).message });
        socket.destroy();
      },
    );
  });
  server.on('clientError', (_e, socket) => socket.destroy());

  const wanted = opts.port ?? 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new GatehouseError(
              ErrorCode.CONFIG,
              `port ${wanted} on ${HOST_ADDRESS} is in use; pick another with --port`,
            )
          : e,
      ),
    );
    server.listen(wanted, HOST_ADDRESS, () => resolve());
  });
  port = (server.address() as { port: number }).port;
  loadSocketSide!();
  const origin = `http://${HOST_ADDRESS}:${port}`;
  log.info('browser host listening', { origin, renderer: root });

  return {
    url: `${origin}/#token=${token}`,
    origin,
    port,
    token,
    async close() {
      // Failed to load: no socket was ever bridged, there is nothing to close.
      const wss = await socketSide.then(
        (side) => side.wss,
        () => undefined,
      );
      for (const ws of wss?.clients ?? []) ws.close(1001, 'the app is shutting down');
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        // Sockets that did not finish the close handshake in time.
        setTimeout(() => {
          for (const ws of wss?.clients ?? []) ws.terminate();
        }, 1_000).unref();
      });
      wss?.close();
    },
  };
}
