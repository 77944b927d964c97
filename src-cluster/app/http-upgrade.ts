// Upgrade requests (WebSocket and any other `Upgrade:`) on an HTTP app: the request is forwarded
// as any other (headers rewritten, JWT set); when the upstream switches protocols its 101 head
// is written to the client and the two streams are relayed as bytes until either side closes or a
// lock cuts the session. An upstream that answers without switching gets its answer passed on,
// and the connection closes (node's server has already let go of the socket's HTTP parser).
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { AppDenialResponse } from '../../src-shared/app-pages.ts';
import { closeWithPeer, relayBytes } from '../../src-shared/byte-relay.ts';
import type { Logger } from '../log/logger.ts';
import type { AppSession } from './app-session.ts';
import { clientResponseHeaders } from './upstream-plan.ts';

/** An HTTP/1.1 response head as bytes: status line, the raw headers, the blank line. */
export function responseHead(status: number, statusMessage: string, rawHeaders: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${statusMessage}\r\n`;
  for (let i = 0; i < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return head + '\r\n';
}

/** A refused upgrade: the denial page written raw, then the connection ends. */
export function refuseUpgrade(socket: Duplex, page: AppDenialResponse): void {
  if (socket.destroyed) return;
  const body = Buffer.from(page.body, 'utf8');
  const headers = Object.entries(page.headers).flat();
  headers.push('content-length', String(body.length));
  socket.end(Buffer.concat([Buffer.from(responseHead(page.status, 'Refused', headers)), body]));
}

/** Switches the session's stream to a byte relay with the upstream once it answers 101. */
export function relayUpgrade(
  session: AppSession,
  client: Duplex,
  clientHead: Buffer,
  upstream: http.ClientRequest,
  log: Logger,
): void {
  session.streaming++;
  client.once('close', () => {
    session.streaming--;
    upstream.destroy();
  });
  upstream.on('upgrade', (res: http.IncomingMessage, upSocket: Duplex, upHead: Buffer) => {
    if (client.destroyed) {
      upSocket.destroy();
      return;
    }
    const rawHeaders: string[] = [];
    // Connection/Upgrade are what a 101 is about: kept, unlike on any other response.
    for (let i = 0; i < res.rawHeaders.length; i += 2) rawHeaders.push(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
    client.write(responseHead(101, res.statusMessage ?? 'Switching Protocols', rawHeaders));
    if (upHead.length > 0) client.write(upHead);
    if (clientHead.length > 0) upSocket.write(clientHead);
    upSocket.on('error', () => {});
    relayBytes(client, upSocket);
    relayBytes(upSocket, client);
    closeWithPeer(client, upSocket);
    closeWithPeer(upSocket, client);
  });
  upstream.on('response', (res) => {
    // No switch: the upstream's answer goes to the client as it is, then the connection ends.
    client.write(responseHead(res.statusCode ?? 502, res.statusMessage ?? '', withClose(res.rawHeaders)));
    res.pipe(client);
  });
  upstream.on('error', (e) => {
    log.info('app upgrade request failed upstream', { app: session.header.app, error: e.message });
    client.destroy();
  });
}

/** A non-101 answer's headers for a connection that closes after it (so its end marks the body's). */
function withClose(raw: readonly string[]): string[] {
  const headers = clientResponseHeaders(raw).filter((_, i, all) => {
    const name = (i % 2 === 0 ? all[i] : all[i - 1])!.toLowerCase();
    return name !== 'content-length';
  });
  headers.push('Connection', 'close');
  return headers;
}
