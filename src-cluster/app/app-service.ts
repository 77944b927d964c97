// The app service: a TLS listener only the cluster's proxies may reach (mutual TLS, host CA, role
// "proxy", ALPN gatehouse-app-service/1). Per connection it reads the forwarded header, re-reads
// the identity from the forwarded user certificate, decides (app-request.ts), answers with the
// reply line, and on {"ok":true} hands the stream to the HTTP reverse proxy (http-proxy.ts) or
// the TCP relay (tcp-relay.ts). It keeps every live session with its lock targets, so a lock
// coming into force cuts the sessions it matches (docs/app-access.md).
import { createHash } from 'node:crypto';
import * as tls from 'node:tls';
import type * as net from 'node:net';
import { readAppForwardedHeader, type AppForwardedHeader } from '../../src-shared/app-route.ts';
import { ALPN_APP_SERVICE } from '../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { writeHeaderLine } from '../../src-shared/ssh-route.ts';
import type { AuditEmitter } from '../audit/audit-events.ts';
import { DerMemo } from '../auth/der-memo.ts';
import { hostFieldsOf, hostIdentityFromCert } from '../auth/host-identity.ts';
import { identityFromClientCert, type TlsIdentity } from '../auth/x509.ts';
import { guardTlsListener, type TlsListenerLimits } from '../limits/listener-guards.ts';
import type { LockFeed, LockNotice, LockTarget } from '../locks/lock-targets.ts';
import type { Logger } from '../log/logger.ts';
import { appRequestIdentity, authorizeApp, findServedApp, type AppRequestDeps, type ServedApp } from './app-request.ts';
import { AppSession, appSessionTargets } from './app-session.ts';
import { AppSessionAudit } from './app-session-audit.ts';
import { AppTokenCache, DEFAULT_MAX_CACHED_TOKENS, type SignAppToken } from './app-token-cache.ts';
import { AppHttpProxy, DEFAULT_DECISION_REUSE_MS } from './http-proxy.ts';
import { connectTcpApp, relayTcpSession, TCP_CONNECT_TIMEOUT_MS } from './tcp-relay.ts';
import { TLS_SERVER_SETTINGS } from '../../src-shared/tls-settings.ts';
import { listenAndLog, type ListenAddress } from '../limits/listen.ts';

/** From the handshake to a complete forwarded header (the proxy sends it at once). */
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;

export interface AppServiceTls {
  certPem: string;
  keyPem: string;
  chainPem: string[];
}

/** What the composition (daemon/app-composition.ts) builds; see docs/app-access.md "App service shape". */
export interface AppServiceOptions extends AppRequestDeps {
  listenHost: string;
  listenPort: number;
  tls: AppServiceTls;
  /** The host CA(s): only proxies' host certificates are accepted. */
  hostCaPems: () => string[];
  locks: LockFeed;
  /** The service's remote emitter (it batches: request events never wait on auth). */
  audit: AuditEmitter;
  /** ClusterService.SignAppToken; cached here per (certificate, app). */
  signAppToken: SignAppToken;
  limits: TlsListenerLimits;
  log: Logger;
  headerTimeoutMs?: number;
  tcpConnectTimeoutMs?: number;
  maxCachedTokens?: number;
  /** How long a connection reuses its last full decision; locks and expiry apply at once regardless. */
  decisionReuseMs?: number;
  /** HTTP apps: a request head must be complete within this (default 60 s). */
  httpHeadersTimeoutMs?: number;
}

/** Being decided or connecting upstream: a lock arriving meanwhile must still refuse it. */
interface PendingSession {
  targets: LockTarget[];
  lockedBy?: string;
}

export class AppService {
  readonly #opts: AppServiceOptions;
  readonly #server: tls.Server;
  readonly #sessions = new Set<AppSession>();
  readonly #pending = new Set<PendingSession>();
  readonly #sockets = new Set<net.Socket>();
  readonly #unsubscribe: () => void;
  readonly #identities = new DerMemo(identityFromClientCert);
  readonly #hosts = new DerMemo(hostFieldsOf);
  readonly #http: AppHttpProxy;
  readonly #tcpConnectTimeoutMs: number;
  /** Connections handed over by the proxy of this process (acceptFromProxy) open now. */
  #inProcessOpen = 0;

  constructor(opts: AppServiceOptions) {
    this.#opts = opts;
    this.#server = tls.createServer({
      ...this.#secureContextOptions(opts.tls),
      handshakeTimeout: opts.limits.handshakeTimeoutMs,
      ALPNProtocols: [ALPN_APP_SERVICE],
      requestCert: true,
      // Only the cluster's services get past TLS; #requireProxy then insists on a proxy.
      rejectUnauthorized: true,
    });
    guardTlsListener(this.#server, opts.limits, opts.log, 'app service');
    this.#server.on('secureConnection', (socket) => void this.#handle(socket));
    this.#server.on('tlsClientError', (err, socket) => {
      opts.log.warn('app service TLS handshake failed', { client: socket.remoteAddress, error: err.message });
    });
    const tokens = new AppTokenCache(opts.signAppToken, opts.maxCachedTokens ?? DEFAULT_MAX_CACHED_TOKENS);
    this.#tcpConnectTimeoutMs = opts.tcpConnectTimeoutMs ?? TCP_CONNECT_TIMEOUT_MS;
    this.#http = new AppHttpProxy({
      deps: opts,
      tokens,
      log: opts.log,
      ...(opts.decisionReuseMs !== undefined ? { decisionReuseMs: opts.decisionReuseMs } : {}),
      ...(opts.httpHeadersTimeoutMs !== undefined ? { headersTimeoutMs: opts.httpHeadersTimeoutMs } : {}),
    });
    this.#unsubscribe = opts.locks.subscribe((lock) => this.#onLock(lock));
  }

  start(): Promise<ListenAddress> {
    return listenAndLog(
      this.#server,
      { host: this.#opts.listenHost, port: this.#opts.listenPort },
      this.#opts.log,
      'app service',
    );
  }

  /** Live app sessions (tests, metrics). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** A renewed host identity or a changed host CA, for handshakes from now on. */
  updateTls(next: AppServiceTls): void {
    this.#server.setSecureContext(this.#secureContextOptions(next));
  }

  /** Stops listening and ends every session with `message`. */
  async close(message = 'the app service is shutting down'): Promise<void> {
    this.#unsubscribe();
    for (const session of this.#sessions) session.terminate(message);
    this.#http.close();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
  }

  #secureContextOptions(t: AppServiceTls): tls.SecureContextOptions {
    return {
      cert: [t.certPem, ...t.chainPem].join('\n'),
      key: t.keyPem,
      ca: this.#opts.hostCaPems(),
      ...TLS_SERVER_SETTINGS,
    };
  }

  #onLock(lock: LockNotice): void {
    for (const pending of this.#pending) if (lock.matches(pending.targets)) pending.lockedBy = lock.message;
    for (const session of this.#sessions) {
      if (!lock.matches(session.targets)) continue;
      this.#opts.log.warn('app session locked', { lock: lock.name, app: session.header.app, reason: lock.message });
      session.lock(lock.message);
    }
  }

  /** The proxy's host identity, or a refusal: users and other services may not connect here. */
  #requireProxy(socket: tls.TLSSocket): void {
    if (socket.alpnProtocol !== ALPN_APP_SERVICE) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `the app service speaks only ${ALPN_APP_SERVICE}`);
    }
    const der = socket.getPeerCertificate(false).raw;
    const host = der ? hostIdentityFromCert(der, this.#opts.hostCaPems(), this.#hosts) : undefined;
    if (host?.role !== 'proxy') {
      throw new GatehouseError(ErrorCode.ACCESS_DENIED, "only the cluster's proxies may connect to an app service");
    }
  }

  /** A connection over the listener: the proxy's mutual TLS, then its forwarded header. */
  async #handle(socket: tls.TLSSocket): Promise<void> {
    this.#adopt(socket);
    let header: AppForwardedHeader;
    try {
      this.#requireProxy(socket);
      header = await readAppForwardedHeader(socket, this.#opts.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS);
    } catch (e) {
      this.#refuse(socket, undefined, undefined, e);
      return;
    }
    await this.#serve(socket, header);
  }

  /**
   * The proxy of this same process hands over its client's connection with the header it would
   * have forwarded, instead of a loopback mutual-TLS leg (docs/app-access.md "The path"): the
   * caller is the proxy itself, so the listener's proxy check has nothing to add; everything
   * after it is the same (the identity re-read from user_cert_pem against the user CA, the
   * decision, the reply line, the session, the audit). The stream must be paused.
   */
  acceptFromProxy(stream: tls.TLSSocket, header: AppForwardedHeader): void {
    this.#adopt(stream);
    // The listener's per-source cap counted every connection of that proxy as one source's.
    if (this.#inProcessOpen >= this.#opts.limits.maxConnectionsPerSource) {
      const why = `the app service is at its limit of ${this.#opts.limits.maxConnectionsPerSource} connections from the proxy`;
      this.#refuse(stream, header, undefined, new GatehouseError(ErrorCode.APP_UNREACHABLE, why));
      return;
    }
    this.#inProcessOpen++;
    stream.once('close', () => this.#inProcessOpen--);
    void this.#serve(stream, header);
  }

  #adopt(socket: tls.TLSSocket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    socket.setNoDelay(true);
  }

  #refuse(
    socket: tls.TLSSocket,
    header: AppForwardedHeader | undefined,
    audit: AppSessionAudit | undefined,
    e: unknown,
  ) {
    const err = e instanceof GatehouseError ? e : new GatehouseError(ErrorCode.INTERNAL, (e as Error).message);
    this.#opts.log.warn('app session refused', { app: header?.app, code: err.code, reason: err.message });
    if (audit) void audit.refused(err.message, err.code);
    if (!socket.destroyed) {
      writeHeaderLine(socket, { ok: false, code: err.code, message: err.message });
      socket.end();
    }
  }

  async #serve(socket: tls.TLSSocket, header: AppForwardedHeader): Promise<void> {
    let audit: AppSessionAudit | undefined;
    try {
      const identity = appRequestIdentity(this.#opts, header, this.#identities);
      audit = this.#auditFor(header, identity);
      const pending: PendingSession = { targets: appSessionTargets(identity, header.app) };
      this.#pending.add(pending);
      let app: ServedApp;
      let upstream: net.Socket | undefined;
      let decidedAt = 0;
      try {
        decidedAt = Date.now();
        app = await findServedApp(this.#opts, header.app, header.kind);
        audit.appUri = app.uri;
        await authorizeApp(this.#opts, identity, app);
        if (header.kind === 'tcp') upstream = await connectTcpApp(app.name, app.uri, this.#tcpConnectTimeoutMs);
      } finally {
        this.#pending.delete(pending);
      }
      if (pending.lockedBy) {
        upstream?.destroy();
        throw new GatehouseError(ErrorCode.ACCESS_DENIED, pending.lockedBy);
      }
      if (socket.destroyed) {
        upstream?.destroy();
        return;
      }
      writeHeaderLine(socket, { ok: true });
      void audit.started();
      this.#opts.log.info('app session started', { user: identity.user, app: app.name, kind: header.kind });
      const session = new AppSession(socket, header, identity, certKeyOf(header.user_cert_pem), audit, app);
      // The connection's decision counts as its first request's: a browser opens six connections.
      session.decidedUntil = decidedAt + (this.#opts.decisionReuseMs ?? DEFAULT_DECISION_REUSE_MS);
      this.#run(session, upstream);
    } catch (e) {
      this.#refuse(socket, header, audit, e);
    }
  }

  #run(session: AppSession, upstream: net.Socket | undefined): void {
    this.#sessions.add(session);
    session.stream.once('close', () => {
      this.#sessions.delete(session);
      upstream?.destroy();
      const socket = session.stream as tls.TLSSocket;
      void session.audit.ended({ bytesIn: socket.bytesRead, bytesOut: socket.bytesWritten }, session.endedBy);
    });
    if (upstream) relayTcpSession(session, upstream);
    else this.#http.serve(session);
  }

  #auditFor(header: AppForwardedHeader, identity: TlsIdentity): AppSessionAudit {
    return new AppSessionAudit({
      audit: this.#opts.audit,
      log: this.#opts.log,
      user: identity.user,
      app: header.app,
      kind: header.kind,
      clientAddress: header.client_addr,
      ...(identity.device ? { device: identity.device } : {}),
    });
  }
}

/** The key the JWT cache files a certificate's tokens under (once per connection, not per request). */
function certKeyOf(userCertPem: string): string {
  return createHash('sha256').update(userCertPem.trim()).digest('base64url');
}
