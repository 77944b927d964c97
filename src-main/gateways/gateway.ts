// One local gateway: a listener on 127.0.0.1 whose every accepted connection becomes one tunnel
// through the proxy to the gateway's route, relayed byte for byte with back-pressure. The local
// client (ssh, psql, a browser) speaks its own protocol and never sees a certificate. The gateway
// parses nothing itself: a kind whose client must be answered before the route is known (a
// database client's opening names the db user) brings a front, which speaks that opening and,
// on a refusal, the client's native error. Like Teleport Connect's gateways, it knows nothing of the
// UI: the app, `gate proxy …` and tests drive it through start/close/info.
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { closeWithPeer, DEFAULT_RELAY_QUEUE_LIMIT, relayBytes } from '../../src-shared/byte-relay.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { silentLogger, type CoreLogger } from '../core/types.ts';
import {
  describeRoute,
  type FrontOpening,
  type GatewayFront,
  type GatewayRoute,
  type LocalRefusal,
  type RouteTarget,
} from './route.ts';

/** Loopback only: a gateway hands out the user's access to whoever can connect to it. */
export const GATEWAY_LISTEN_HOST = '127.0.0.1';
/** Connections one gateway carries at once; more are refused (closed) until some end. */
export const DEFAULT_MAX_GATEWAY_CONNECTIONS = 64;

/**
 * Opens one tunnel to the route (TLS, ALPN, routing handshake done) for what a front learned
 * from the local client, if anything; rejects with a coded error.
 */
export type RouteDialer = (route: GatewayRoute, target?: RouteTarget) => Promise<Duplex>;

export interface GatewayOptions {
  id: string;
  route: GatewayRoute;
  dial: RouteDialer;
  /** Answers each local client's opening before dialing (db kinds); none: relay from the first byte. */
  front?: GatewayFront;
  /** Without a front: how a refused connection is answered (an HTTP app's denial page); none: closed. */
  refusal?: LocalRefusal;
  /** Local port; 0 (default) lets the OS choose a free one. */
  localPort?: number;
  maxConnections?: number;
  /** Bytes queued toward a slow side before the other side is paused. */
  relayQueueLimit?: number;
  logger?: CoreLogger;
}

export interface GatewayInfo {
  id: string;
  route: GatewayRoute;
  localAddress: string;
  /** 0 until started. */
  localPort: number;
  /** Local connections being relayed now. */
  connections: number;
  /** Why the last connection was refused (the proxy's, the db service's or the network's coded error). */
  lastRefusal?: GatewayRefusal;
}

export interface GatewayRefusal {
  code: ErrorCode;
  message: string;
  /** ISO time of the refusal. */
  at: string;
}

export class LocalGateway {
  readonly id: string;
  readonly route: GatewayRoute;
  private readonly server: net.Server;
  private readonly live = new Set<{ local: net.Socket; tunnel?: Duplex }>();
  private readonly log: CoreLogger;
  private readonly maxConnections: number;
  private port = 0;
  private closing = false;
  private lastRefusal: GatewayRefusal | undefined;
  private readonly refusalListeners = new Set<(e: GatehouseError) => void>();

  constructor(private readonly opts: GatewayOptions) {
    this.id = opts.id;
    this.route = opts.route;
    this.log = opts.logger ?? silentLogger;
    this.maxConnections = opts.maxConnections ?? DEFAULT_MAX_GATEWAY_CONNECTIONS;
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => void this.accept(socket));
  }

  /** Listens on 127.0.0.1; a taken port is a CONFLICT naming it. */
  async start(): Promise<GatewayInfo> {
    const wanted = this.opts.localPort ?? 0;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        reject(
          e.code === 'EADDRINUSE'
            ? new GatehouseError(ErrorCode.CONFLICT, `local port ${wanted} is already in use; choose another`, {
                port: wanted,
              })
            : new GatehouseError(
                ErrorCode.INTERNAL,
                `cannot listen on ${GATEWAY_LISTEN_HOST}:${wanted}: ${e.code ?? e.message}`,
              ),
        );
      };
      this.server.once('error', onError);
      this.server.listen(wanted, GATEWAY_LISTEN_HOST, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    // Once listening, an accept failure (e.g. out of file descriptors) must not crash main.
    this.server.on('error', (e: NodeJS.ErrnoException) =>
      this.log.warn('gateway listener error', { id: this.id, error: e.code ?? e.message }),
    );
    this.port = (this.server.address() as net.AddressInfo).port;
    this.log.info('gateway listening', { id: this.id, route: describeRoute(this.route), port: this.port });
    return this.info();
  }

  info(): GatewayInfo {
    return {
      id: this.id,
      route: this.route,
      localAddress: GATEWAY_LISTEN_HOST,
      localPort: this.port,
      connections: this.live.size,
      ...(this.lastRefusal ? { lastRefusal: this.lastRefusal } : {}),
    };
  }

  /** Called with the coded error whenever a local connection could not be routed. */
  onRefused(listener: (e: GatehouseError) => void): () => void {
    this.refusalListeners.add(listener);
    return () => this.refusalListeners.delete(listener);
  }

  /** Stops listening and ends every live connection (both sides). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.live) {
      c.local.destroy();
      c.tunnel?.destroy();
    }
    await closed;
    this.log.info('gateway closed', { id: this.id, route: describeRoute(this.route) });
  }

  private async accept(local: net.Socket): Promise<void> {
    local.on('error', () => {}); // a reset by the local client only ends this connection
    if (this.closing || this.live.size >= this.maxConnections) {
      this.log.warn('gateway connection refused: too many at once', { id: this.id, max: this.maxConnections });
      local.destroy();
      return;
    }
    const conn: { local: net.Socket; tunnel?: Duplex } = { local };
    this.live.add(conn);
    local.once('close', () => {
      this.live.delete(conn);
      conn.tunnel?.destroy();
    });
    local.setNoDelay(true);
    let opening: FrontOpening | undefined;
    let tunnel: Duplex;
    try {
      if (this.opts.front) {
        // The socket is still paused (pauseOnConnect): the front resumes it when it reads.
        opening = await this.opts.front.open(local);
        if (!opening) {
          local.destroy(); // nothing to route (e.g. a Postgres CancelRequest)
          return;
        }
        local.pause(); // bytes after the opening wait for the tunnel
      }
      tunnel = await this.opts.dial(this.route, opening?.target);
    } catch (e) {
      this.refuse(local, e);
      return;
    }
    if (local.destroyed || this.closing) {
      tunnel.destroy(); // the local client left (or the gateway closed) while the tunnel opened
      return;
    }
    conn.tunnel = tunnel;
    tunnel.on('error', () => local.destroy());
    closeWithPeer(tunnel, local);
    if (opening) tunnel.write(opening.firstBytes);
    const limit = this.opts.relayQueueLimit ?? DEFAULT_RELAY_QUEUE_LIMIT;
    relayBytes(local, tunnel, limit);
    relayBytes(tunnel, local, limit);
  }

  private refuse(local: net.Socket, e: unknown): void {
    const err =
      e instanceof GatehouseError
        ? e
        : new GatehouseError(ErrorCode.INTERNAL, `the gateway could not open its route: ${(e as Error).message}`);
    this.lastRefusal = { code: err.code, message: err.message, at: new Date().toISOString() };
    this.log.warn('gateway route refused', {
      id: this.id,
      route: describeRoute(this.route),
      code: err.code,
      reason: err.message,
    });
    // With a front the client hears why in its own protocol (psql prints it) unless the front
    // already told it (a malformed opening); without one, its protocol is not ours to speak and
    // closing is the only answer it can get, unless the kind can still answer it (an HTTP app's page).
    try {
      if (this.opts.front && local.writable) this.opts.front.refuse(local, err.message);
      else if (this.opts.refusal && local.writable) this.opts.refusal(local, err);
      else local.destroy();
    } catch {
      local.destroy();
    }
    for (const l of [...this.refusalListeners]) l(err);
  }
}
