// Test-only: a WebSocket echo server (the `ws` package) on a loopback port, the backend nginx
// proxies `/ws` to. Every message comes back as it was sent (text stays text, binary binary), so a
// test can tell that a WebSocket passed the gateway, the proxy, the app service and nginx intact.
import { WebSocketServer, type WebSocket } from 'ws';

export interface WebSocketEcho {
  port: number;
  /** Connections open right now (a lock that cuts a WebSocket drops this to 0). */
  openConnections(): number;
  /** Total connections accepted since start. */
  acceptedConnections(): number;
  stop(): Promise<void>;
}

/** Largest message echoed: bigger ones close the connection (1009), as a real app would bound them. */
const MAX_MESSAGE_BYTES = 16 << 20;

export async function startWebSocketEcho(): Promise<WebSocketEcho> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: MAX_MESSAGE_BYTES });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const open = new Set<WebSocket>();
  let accepted = 0;
  wss.on('connection', (ws) => {
    accepted++;
    open.add(ws);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', () => open.delete(ws));
    ws.on('error', () => open.delete(ws));
  });
  const port = (wss.address() as { port: number }).port;
  return {
    port,
    openConnections: () => open.size,
    acceptedConnections: () => accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const ws of open) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}
