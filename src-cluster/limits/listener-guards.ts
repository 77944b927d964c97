// Connection limits for the proxy's TLS listener, its HTTP/2 API sessions and the node's SSH
// listener: the per-source cap and a handshake/login timer, both from accept, and the idle
// time-out of API connections.
import type * as net from 'node:net';
import type ssh2 from 'ssh2';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type * as tls from 'node:tls';
import * as http2 from 'node:http2';
import type { Logger } from '../log/logger.ts';
import { SourceLimiter } from './source-limiter.ts';

/** After the GOAWAY of an idle connection, how long the client gets to close it itself. */
const IDLE_CLOSE_GRACE_MS = 1000;

export interface TlsListenerLimits {
  handshakeTimeoutMs: number;
  maxConnectionsPerSource: number;
}

/**
 * Node's own `handshakeTimeout` only starts once a ClientHello arrives, so a client that sends
 * nothing would stay; this timer starts at accept and stops when the handshake completes.
 */
export function guardTlsListener(server: tls.Server, limits: TlsListenerLimits, log: Logger, name: string): void {
  const sources = new SourceLimiter(limits.maxConnectionsPerSource, log, name);
  const pending = new Map<string, NodeJS.Timeout>();
  const keyOf = (s: net.Socket) => `${s.remoteAddress}|${s.remotePort}`;
  // Prepended: runs before TLS sees the socket, so a refused source costs no handshake.
  server.prependListener('connection', (raw: net.Socket) => {
    if (!sources.admit(raw)) return;
    const key = keyOf(raw);
    const timer = setTimeout(() => {
      log.info('TLS handshake not finished in time; disconnecting', {
        listener: name,
        client: raw.remoteAddress,
        timeoutMs: limits.handshakeTimeoutMs,
      });
      raw.destroy();
    }, limits.handshakeTimeoutMs);
    timer.unref();
    pending.set(key, timer);
    raw.once('close', () => {
      clearTimeout(timer);
      pending.delete(key);
    });
  });
  server.prependListener('secureConnection', (socket: tls.TLSSocket) => {
    const key = keyOf(socket);
    clearTimeout(pending.get(key));
    pending.delete(key);
  });
}

/**
 * An HTTP/2 connection with no request in flight gets a GOAWAY after `idleMs`, then is destroyed
 * if the client does not close it; a stream with no traffic for as long is cancelled, so an open
 * but silent request does not keep a connection either.
 */
export function closeWhenIdle(session: http2.ServerHttp2Session, idleMs: number, log: Logger): void {
  let active = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = setTimeout(() => {
      log.debug('closing idle API connection', { client: session.socket?.remoteAddress, idleMs });
      session.close();
      setTimeout(() => session.destroy(), IDLE_CLOSE_GRACE_MS).unref();
    }, idleMs);
    timer.unref();
  };
  arm();
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    active++;
    clearTimeout(timer);
    stream.setTimeout(idleMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.once('close', () => {
      if (--active === 0 && !session.closed && !session.destroyed) arm();
    });
  });
  session.once('close', () => clearTimeout(timer));
}

export interface SshListenerLimits {
  loginGraceMs: number;
  maxConnectionsPerSource: number;
}

/**
 * On the SSH server's raw listener, before ssh2 reads a byte: the per-source cap, and the login
 * grace timer from accept, so a client that never sends its banner is dropped too (ssh2 reports a
 * connection only after the banner). Returns the function that stops a socket's timer once its
 * client has authenticated. ssh2 exposes no accept hook; `_srv` is its net.Server.
 */
export function guardSshListener(
  server: ssh2.Server,
  limits: SshListenerLimits,
  log: Logger,
): (socket: net.Socket | undefined) => void {
  const raw = (server as unknown as { _srv?: net.Server })._srv;
  if (!raw) {
    throw new GatehouseError(ErrorCode.INTERNAL, 'ssh2 Server has no _srv listener; connection limits cannot apply');
  }
  const sources = new SourceLimiter(limits.maxConnectionsPerSource, log, 'node');
  const timers = new WeakMap<net.Socket, NodeJS.Timeout>();
  raw.prependListener('connection', (socket: net.Socket) => {
    if (!sources.admit(socket)) return;
    const timer = setTimeout(() => {
      log.info('no authentication in time; disconnecting', {
        client: socket.remoteAddress,
        graceMs: limits.loginGraceMs,
      });
      socket.destroy();
    }, limits.loginGraceMs);
    timer.unref();
    timers.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  });
  return (socket) => {
    if (socket) clearTimeout(timers.get(socket));
  };
}
