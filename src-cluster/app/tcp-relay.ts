// TCP apps (spec.uri tcp://host:port): the app service connects first and only then answers
// {"ok":true}, so an app that is down reaches the user as APP_UNREACHABLE on the reply line
// rather than as a connection that opens and closes. After that: a byte relay both ways.
import * as net from 'node:net';
import { closeWithPeer, relayBytes } from '../../src-shared/byte-relay.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { AppSession } from './app-session.ts';

export const TCP_CONNECT_TIMEOUT_MS = 10_000;

/** host and port of tcp://host:port (the port is required by the resource's schema). */
export function tcpTargetOf(uri: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new GatehouseError(ErrorCode.APP_UNREACHABLE, `malformed app uri: ${uri}`);
  }
  const port = Number(url.port);
  if (url.protocol !== 'tcp:' || !url.hostname || !Number.isInteger(port) || port < 1) {
    throw new GatehouseError(ErrorCode.APP_UNREACHABLE, `not a tcp://host:port app uri: ${uri}`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { host, port };
}

/** A connected socket to the TCP app, or APP_UNREACHABLE saying why. */
export function connectTcpApp(app: string, uri: string, timeoutMs = TCP_CONNECT_TIMEOUT_MS): Promise<net.Socket> {
  const { host, port } = tcpTargetOf(uri);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (why: string) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new GatehouseError(ErrorCode.APP_UNREACHABLE, `app "${app}" did not answer at ${uri}: ${why}`));
    };
    const timer = setTimeout(() => fail(`no connection in ${timeoutMs} ms`), timeoutMs);
    socket.once('error', (e) => fail(e.message));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** Relays the session's stream and the app's socket until either closes (or a lock cuts it). */
export function relayTcpSession(session: AppSession, upstream: net.Socket): void {
  const client = session.stream;
  session.streaming++;
  client.once('close', () => session.streaming--);
  relayBytes(client, upstream);
  relayBytes(upstream, client);
  closeWithPeer(client, upstream);
  closeWithPeer(upstream, client);
}
