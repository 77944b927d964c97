// The proxy: one TLS port for everything a client reaches, routed by ALPN.
//   h2               → the cluster API (Connect over HTTP/2), mTLS optional per call
//   gatehouse-ssh/1  → SSH to a node: the client names the node in a one-line JSON header,
//                      the proxy authorizes its client certificate, dials the node and relays.
//   gatehouse-postgres, gatehouse-mysql → a database through a db service (db-route.ts).
//   gatehouse-app, gatehouse-tcp → an HTTP or TCP app through an app service (app-route.ts).
//   http/1.1 or none → GET /.well-known/jwks.json only (jwks-endpoint.ts; over h2 too).
import * as tls from 'node:tls';
import * as net from 'node:net';
import * as http2 from 'node:http2';
import { closeWithPeer, relayBytes } from '../../src-shared/byte-relay.ts';
import { X509Certificate } from 'node:crypto';
import { ALPN_API, ALPN_APP, ALPN_MYSQL, ALPN_POSTGRES, ALPN_SSH, ALPN_TCP } from '../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Logger } from '../log/logger.ts';
import { identityFromClientCert, type TlsIdentity } from '../auth/x509.ts';
import { hostFieldsOf, issuedByOneOf } from '../auth/host-identity.ts';
import { readHeaderLine, writeHeaderLine, type SshRouteRequest } from '../../src-shared/ssh-route.ts';
import { closeWhenIdle, guardTlsListener } from '../limits/listener-guards.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS_PER_IP } from '../limits/limits.ts';
import { parseDurationMs } from '../resources/duration.ts';
import { splitHostPort } from '../../src-shared/host-port.ts';
import { MAX_CONCURRENT_STREAMS, type ProxyConnectionLimits } from '../limits/limits.ts';
import { TlsContextCache } from '../../src-shared/tls-contexts.ts';
import { DerMemo } from '../auth/der-memo.ts';
import { relayDbRoute, type DbRouteBackends, type DbRouteProtocol } from './db-route.ts';
import { relayAppRoute, type AppRouteBackends } from './app-route.ts';
import type { ServiceRouteContext } from './service-route.ts';
import { answerJwks, isJwksPath, JwksHttpEndpoint, type JwksSource } from './jwks-endpoint.ts';
import { TLS_SERVER_SETTINGS } from '../../src-shared/tls-settings.ts';
import { listenAndLog, type ListenAddress } from '../limits/listen.ts';

/** ALPN of plain HTTPS clients (curl --http1.1, a JOSE library fetching the JWKS). */
const ALPN_HTTP1 = 'http/1.1';

export { MAX_CONCURRENT_STREAMS, type ProxyConnectionLimits };

export function defaultProxyLimits(): ProxyConnectionLimits {
  return {
    handshakeTimeoutMs: parseDurationMs(DEFAULT_HANDSHAKE_TIMEOUT),
    idleTimeoutMs: parseDurationMs(DEFAULT_IDLE_TIMEOUT),
    maxConnectionsPerSource: DEFAULT_MAX_CONNECTIONS_PER_IP,
  };
}

export interface RoutableNode {
  name: string;
  address: string;
}

/** A node running in the proxy's own process (the single-process daemon). */
export interface InProcessNode {
  /**
   * Takes over the client's paused TLS connection, the routing header already answered, as if it
   * had come to the node's listener: the node's SSH server reads and writes it directly.
   */
  acceptFromProxy(stream: tls.TLSSocket): void;
}

export interface ProxyBackends {
  /** The node the identity may reach under that name; undefined when unknown or not visible to it. */
  findNode(identity: TlsIdentity, name: string): Promise<RoutableNode | undefined>;
  /**
   * That node when it runs in this process: the connection is handed to its SSH server instead of
   * a loopback TCP hop and a relay, which cost the single-process daemon a socket write, a read and
   * a copy of every byte (BENCHMARKS.md "Issue 16: SSH stream"). Nothing is trusted less for it:
   * the proxy has checked the client certificate and the route, and the node still authenticates
   * the SSH user certificate itself, as for a connection from its listener.
   */
  inProcessNode?(node: RoutableNode): InProcessNode | undefined;
}

export interface ProxyOptions {
  listenHost: string;
  listenPort: number;
  tls: { certPem: string; keyPem: string; chainPem: string[] };
  /** PEMs of the X.509 user CA(s): client certificates must chain to one of them. */
  userCaPems: () => string[];
  /**
   * PEMs of the X.509 host CA(s): joined services call the API with host certificates. They pass
   * TLS, but only API routes that ask for a host identity accept them (see api/peer.ts).
   */
  hostCaPems?: () => string[];
  apiHandler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
  backends: ProxyBackends;
  /** Database routing; without it the database ALPNs are refused with a reply line. */
  databases?: DbRouteBackends;
  /** App routing; without it the app ALPNs are refused with a reply line. */
  apps?: AppRouteBackends;
  /** The JWKS document served at JWKS_PATH; without it that path is forwarded (h2) or 404 (http/1.1). */
  jwks?: JwksSource;
  logger: Logger;
  dialTimeoutMs?: number;
  limits?: ProxyConnectionLimits;
}

export class ProxyServer {
  private readonly server: tls.Server;
  private readonly api: http2.Http2Server;
  private readonly sockets = new Set<tls.TLSSocket | net.Socket>();
  private readonly limits: ProxyConnectionLimits;
  /** The proxy's host identity toward db and app services changes only on renewal: one context for all dials. */
  private readonly serviceContexts = new TlsContextCache(4);
  /** Parsed per user certificate: a gateway opens many connections with one route certificate. */
  private readonly clientIdentities = new DerMemo(identityFromClientCert);
  private readonly serviceHosts = new DerMemo(hostFieldsOf);
  private readonly jwksHttp: JwksHttpEndpoint | undefined;

  constructor(private readonly opts: ProxyOptions) {
    this.limits = opts.limits ?? defaultProxyLimits();
    this.jwksHttp = opts.jwks ? new JwksHttpEndpoint(opts.jwks, this.limits.idleTimeoutMs, opts.logger) : undefined;
    const jwks = opts.jwks;
    // Over h2 the proxy answers the JWKS path itself; every other path is the API (auth's).
    const apiHandler: ProxyOptions['apiHandler'] = jwks
      ? (req, res) => {
          if (!isJwksPath(req.url)) return opts.apiHandler(req, res);
          answerJwks(jwks, req, res).catch(() => res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
        }
      : opts.apiHandler;
    this.api = http2.createServer({ settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS } }, apiHandler);
    this.api.on('session', (session) => closeWhenIdle(session, this.limits.idleTimeoutMs, opts.logger));
    this.server = tls.createServer({
      // Node's timer (from the ClientHello on); guardTlsListener's runs from accept.
      handshakeTimeout: this.limits.handshakeTimeoutMs,
      cert: [opts.tls.certPem, ...opts.tls.chainPem].join('\n'),
      key: opts.tls.keyPem,
      // h2 first: a client offering both h2 and http/1.1 (curl's default) gets the API route.
      ALPNProtocols: [ALPN_API, ALPN_SSH, ALPN_POSTGRES, ALPN_MYSQL, ALPN_APP, ALPN_TCP, ALPN_HTTP1],
      requestCert: true,
      // Public API calls (ping, login) come without a client cert; each route checks `authorized`.
      rejectUnauthorized: false,
      ca: [...opts.userCaPems(), ...(opts.hostCaPems?.() ?? [])],
      ...TLS_SERVER_SETTINGS,
    });
    // Per-source cap and a handshake timer from accept.
    guardTlsListener(this.server, this.limits, opts.logger, 'proxy');
    this.server.on('secureConnection', (socket) => this.route(socket));
    this.server.on('tlsClientError', (err, socket) => {
      opts.logger.warn('TLS handshake failed', { client: socket.remoteAddress, error: err.message });
    });
  }

  start(): Promise<ListenAddress> {
    return listenAndLog(
      this.server,
      { host: this.opts.listenHost, port: this.opts.listenPort },
      this.opts.logger,
      'proxy',
    );
  }

  /**
   * New certificate and key for connections from now on (a renewed host identity); open
   * connections keep theirs. The client CAs are re-read too.
   */
  updateTls(tls: { certPem: string; keyPem: string; chainPem: string[] }): void {
    this.server.setSecureContext({
      cert: [tls.certPem, ...tls.chainPem].join('\n'),
      key: tls.keyPem,
      ca: [...this.opts.userCaPems(), ...(this.opts.hostCaPems?.() ?? [])],
      ...TLS_SERVER_SETTINGS,
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    this.api.close();
  }

  private track(s: tls.TLSSocket | net.Socket) {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  private route(socket: tls.TLSSocket): void {
    this.track(socket);
    socket.on('error', () => {});
    // Request/response protocols (SQL, SSH keystrokes) must not wait for Nagle's algorithm to
    // coalesce small writes with the peer's delayed ACK: that cost ~40 ms per exchange.
    socket.setNoDelay(true);
    switch (socket.alpnProtocol) {
      case ALPN_API:
        this.api.emit('connection', socket);
        return;
      case ALPN_SSH:
        void this.relaySsh(socket);
        return;
      case ALPN_POSTGRES:
      case ALPN_MYSQL:
        void this.relayDb(socket, socket.alpnProtocol === ALPN_POSTGRES ? 'postgres' : 'mysql');
        return;
      case ALPN_APP:
      case ALPN_TCP:
        void this.relayApp(socket, socket.alpnProtocol === ALPN_APP ? 'http' : 'tcp');
        return;
      case ALPN_HTTP1:
      case false:
        // Without a JWKS source there is nothing to serve over plain HTTPS.
        if (this.jwksHttp) this.jwksHttp.serve(socket);
        else this.refuseAlpn(socket);
        return;
      default:
        this.refuseAlpn(socket);
    }
  }

  private refuseAlpn(socket: tls.TLSSocket): void {
    this.opts.logger.warn('refused connection without a known ALPN protocol', {
      client: socket.remoteAddress,
      alpn: socket.alpnProtocol || 'none',
    });
    socket.destroy();
  }

  private clientIdentity(socket: tls.TLSSocket): TlsIdentity {
    if (!socket.authorized) {
      const why = socket.authorizationError ? String(socket.authorizationError) : 'no client certificate';
      throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, `client certificate refused (${why}); run "gate login" again`);
    }
    const der = socket.getPeerCertificate(false).raw;
    // TLS also accepts host certificates: SSH and database routing are for users only.
    if (!issuedByOneOf(new X509Certificate(der), this.opts.userCaPems())) {
      throw new GatehouseError(ErrorCode.ACCESS_DENIED, 'only user certificates may open SSH, database or app routes');
    }
    const identity = this.clientIdentities.get(der);
    // A resumed TLS session (gateways reuse session tickets) skips certificate verification, so
    // `authorized` reflects the first handshake: expiry is checked here for every connection.
    if (identity.notAfter.getTime() <= Date.now()) {
      throw new GatehouseError(ErrorCode.CERT_EXPIRED, 'client certificate has expired; run "gate login" again');
    }
    return identity;
  }

  private async relaySsh(socket: tls.TLSSocket): Promise<void> {
    const log = this.opts.logger;
    let request: SshRouteRequest | undefined;
    try {
      const identity = this.clientIdentity(socket);
      request = await readHeaderLine(socket);
      const node = await this.opts.backends.findNode(identity, request.node);
      if (!node) throw new GatehouseError(ErrorCode.NODE_NOT_FOUND, `node "${request.node}" not found`);
      const local = this.opts.backends.inProcessNode?.(node);
      if (local) {
        writeHeaderLine(socket, { ok: true });
        log.info('ssh handed over in-process', { user: identity.user, node: node.name, client: socket.remoteAddress });
        local.acceptFromProxy(socket);
        return;
      }
      const upstream = await this.dial(node);
      this.track(upstream);
      writeHeaderLine(socket, { ok: true });
      log.info('ssh relay started', { user: identity.user, node: node.name, client: socket.remoteAddress });
      relayBytes(socket, upstream);
      relayBytes(upstream, socket);
      upstream.on('error', () => socket.destroy());
      // A node that closes cleanly has sent the end of the output, the exit status and the
      // channel close: they may still wait in the client's TLS writer (a slow reader, a loaded
      // machine), so the client's side is ended and flushed, not destroyed. Destroying it threw
      // that tail away: `gate ssh` saw the stream cut mid-output and exited 255.
      closeWithPeer(socket, upstream);
      closeWithPeer(upstream, socket);
    } catch (e) {
      const err = e instanceof GatehouseError ? e : new GatehouseError(ErrorCode.INTERNAL, (e as Error).message);
      log.warn('ssh relay refused', {
        node: request?.node,
        client: socket.remoteAddress,
        code: err.code,
        reason: err.message,
      });
      writeHeaderLine(socket, { ok: false, code: err.code, message: err.message });
      socket.end();
    }
  }

  /** What the db and app routes share for one client connection. */
  private serviceRouteContext(socket: tls.TLSSocket): ServiceRouteContext {
    return {
      socket,
      clientIdentity: (s) => this.clientIdentity(s),
      track: (s) => this.track(s),
      dialTimeoutMs: this.opts.dialTimeoutMs ?? 5000,
      tlsContexts: this.serviceContexts,
      hostFields: this.serviceHosts,
      log: this.opts.logger,
    };
  }

  private relayDb(socket: tls.TLSSocket, protocol: DbRouteProtocol): Promise<void> {
    return relayDbRoute({ ...this.serviceRouteContext(socket), protocol, backends: this.opts.databases });
  }

  private relayApp(socket: tls.TLSSocket, kind: 'http' | 'tcp'): Promise<void> {
    return relayAppRoute({ ...this.serviceRouteContext(socket), kind, backends: this.opts.apps });
  }

  private dial(node: RoutableNode): Promise<net.Socket> {
    const timeout = this.opts.dialTimeoutMs ?? 5000;
    const [host, portText] = splitHostPort(node.address);
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port: Number(portText) });
      s.setNoDelay(true);
      const fail = (why: string) => {
        s.destroy();
        reject(
          new GatehouseError(
            ErrorCode.NODE_UNREACHABLE,
            `node "${node.name}" at ${node.address} is unreachable: ${why}`,
          ),
        );
      };
      const timer = setTimeout(() => fail(`no answer within ${timeout} ms`), timeout);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        fail(err.code ?? err.message);
      });
    });
  }
}
