// The db service: a TLS listener that only the cluster's proxies may reach (mutual TLS, host CA,
// role "proxy", ALPN gatehouse-db-service/1). Per connection it reads the forwarded header,
// decides (db-request.ts), answers with the reply line, and on {"ok":true} hands the stream to
// the engine of the database's protocol with upstream TLS options ready (upstream-tls.ts). It
// keeps every live session so that a lock coming into force ends the sessions it matches.
import * as tls from 'node:tls';
import type * as net from 'node:net';
import { ALPN_DB_SERVICE } from '../../src-shared/cert-fields.ts';
import { readDbForwardedHeader, type DbForwardedHeader } from '../../src-shared/db-route.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { writeHeaderLine } from '../../src-shared/ssh-route.ts';
import type { AuditEmitter } from '../audit/audit-events.ts';
import { DerMemo } from '../auth/der-memo.ts';
import { hostFieldsOf, hostIdentityFromCert } from '../auth/host-identity.ts';
import { identityFromClientCert, type TlsIdentity } from '../auth/x509.ts';
import { guardTlsListener, type TlsListenerLimits } from '../limits/listener-guards.ts';
import type { LockFeed, LockNotice, LockTarget } from '../locks/lock-targets.ts';
import type { Logger } from '../log/logger.ts';
import { authorizeDbRequest, requestIdentity, type DbRequestDeps } from './db-request.ts';
import { DbSessionAudit } from './db-session-audit.ts';
import type { DbEngine, DbEngineSession, DbUpstream } from './engine.ts';
import type { UpstreamTarget } from './upstream-tls.ts';
import { TLS_SERVER_SETTINGS } from '../../src-shared/tls-settings.ts';
import { listenAndLog, type ListenAddress } from '../limits/listen.ts';

/** From the handshake to a complete forwarded header (the proxy sends it at once). */
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;
/** Connecting, TLS and logging in to the database. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 10_000;

export interface DbServiceTls {
  certPem: string;
  keyPem: string;
  chainPem: string[];
}

export interface DbServiceOptions extends DbRequestDeps {
  listenHost: string;
  listenPort: number;
  tls: DbServiceTls;
  /** The host CA(s): only proxies' host certificates are accepted. */
  hostCaPems: () => string[];
  engines: readonly DbEngine[];
  upstreamFor(db: UpstreamTarget, dbUser: string, timeoutMs: number): Promise<DbUpstream>;
  locks: LockFeed;
  audit: AuditEmitter;
  deviceTrustMode: () => string;
  limits: TlsListenerLimits;
  log: Logger;
  headerTimeoutMs?: number;
  upstreamTimeoutMs?: number;
}

interface LiveSession {
  session: DbEngineSession;
  targets: LockTarget[];
  /** Why it was cut (a lock), for the end event. */
  endedBy?: string;
}

/** A session authorized but not started yet (its client certificate for the database is on the way). */
interface PendingSession {
  targets: LockTarget[];
  lockedBy?: string;
}

/** What a lock on this session may name: the user, the certificate's roles, the device, the database. */
function sessionTargets(identity: TlsIdentity, db: string): LockTarget[] {
  const targets: LockTarget[] = [{ kind: 'user', value: identity.user }];
  for (const role of identity.roles) targets.push({ kind: 'role', value: role });
  if (identity.device?.deviceId) targets.push({ kind: 'device', value: identity.device.deviceId });
  targets.push({ kind: 'db', value: db });
  return targets;
}

export class DbService {
  readonly #opts: DbServiceOptions;
  readonly #server: tls.Server;
  readonly #engines: Map<string, DbEngine>;
  readonly #sessions = new Set<LiveSession>();
  readonly #pending = new Set<PendingSession>();
  readonly #sockets = new Set<net.Socket>();
  readonly #unsubscribe: () => void;
  /** Parsed per forwarded user certificate (one route certificate serves many sessions). */
  readonly #identities = new DerMemo(identityFromClientCert);
  /** Parsed per proxy host certificate: the same few proxies connect for every session. */
  readonly #hosts = new DerMemo(hostFieldsOf);

  constructor(opts: DbServiceOptions) {
    this.#opts = opts;
    this.#engines = new Map(opts.engines.map((e) => [e.protocol, e]));
    this.#server = tls.createServer({
      ...this.#secureContextOptions(opts.tls),
      handshakeTimeout: opts.limits.handshakeTimeoutMs,
      ALPNProtocols: [ALPN_DB_SERVICE],
      requestCert: true,
      // Only the cluster's services get past TLS; handle() then insists on a proxy.
      rejectUnauthorized: true,
    });
    guardTlsListener(this.#server, opts.limits, opts.log, 'db service');
    this.#server.on('secureConnection', (socket) => void this.#handle(socket));
    this.#server.on('tlsClientError', (err, socket) => {
      opts.log.warn('db service TLS handshake failed', { client: socket.remoteAddress, error: err.message });
    });
    this.#unsubscribe = opts.locks.subscribe((lock) => this.#onLock(lock));
  }

  start(): Promise<ListenAddress> {
    return listenAndLog(
      this.#server,
      { host: this.#opts.listenHost, port: this.#opts.listenPort },
      this.#opts.log,
      'db service',
    );
  }

  /** Live database sessions (tests, metrics). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** A renewed host identity or a changed host CA, for handshakes from now on. */
  updateTls(next: DbServiceTls): void {
    this.#server.setSecureContext(this.#secureContextOptions(next));
  }

  /** Stops listening and ends every session (natively, where the protocol allows) with `message`. */
  async close(message = 'the db service is shutting down'): Promise<void> {
    this.#unsubscribe();
    for (const live of this.#sessions) {
      live.endedBy = message;
      live.session.terminate(message);
    }
    await Promise.race([
      Promise.all([...this.#sessions].map((l) => l.session.done)),
      new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
    ]);
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
  }

  #secureContextOptions(t: DbServiceTls): tls.SecureContextOptions {
    return {
      cert: [t.certPem, ...t.chainPem].join('\n'),
      key: t.keyPem,
      ca: this.#opts.hostCaPems(),
      ...TLS_SERVER_SETTINGS,
    };
  }

  #onLock(lock: LockNotice): void {
    // A lock arriving between the decision and the start must not let the session through.
    for (const pending of this.#pending) if (lock.matches(pending.targets)) pending.lockedBy = lock.message;
    for (const live of this.#sessions) {
      if (!lock.matches(live.targets)) continue;
      this.#opts.log.warn('ending db session: lock in force', { lock: lock.name, reason: lock.message });
      live.endedBy = lock.message;
      live.session.terminate(lock.message);
    }
  }

  /** The proxy's host identity, or a refusal: users and other services may not connect here. */
  #requireProxy(socket: tls.TLSSocket): void {
    if (socket.alpnProtocol !== ALPN_DB_SERVICE) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `the db service speaks only ${ALPN_DB_SERVICE}`);
    }
    const der = socket.getPeerCertificate(false).raw;
    const host = der ? hostIdentityFromCert(der, this.#opts.hostCaPems(), this.#hosts) : undefined;
    if (host?.role !== 'proxy') {
      throw new GatehouseError(ErrorCode.ACCESS_DENIED, "only the cluster's proxies may connect to a db service");
    }
  }

  async #handle(socket: tls.TLSSocket): Promise<void> {
    const log = this.#opts.log;
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    socket.setNoDelay(true);
    let header: DbForwardedHeader | undefined;
    let audit: DbSessionAudit | undefined;
    try {
      this.#requireProxy(socket);
      header = await readDbForwardedHeader(socket, this.#opts.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS);
      const identity = requestIdentity(this.#opts, header, this.#identities);
      audit = this.#auditFor(header, identity);
      const { database, limits } = await authorizeDbRequest(this.#opts, header, identity);
      const engine = this.#engines.get(database.protocol);
      if (!engine) {
        throw new GatehouseError(ErrorCode.DB_UNREACHABLE, `this db service has no ${database.protocol} engine`);
      }
      const timeoutMs = this.#opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
      const pending: PendingSession = { targets: sessionTargets(identity, database.name) };
      this.#pending.add(pending);
      const upstream = await this.#opts
        .upstreamFor(database, limits.dbUser, timeoutMs)
        .finally(() => this.#pending.delete(pending));
      if (pending.lockedBy) throw new GatehouseError(ErrorCode.ACCESS_DENIED, pending.lockedBy);
      if (socket.destroyed) return;
      writeHeaderLine(socket, { ok: true });
      void audit.started();
      log.info('db session started', { user: identity.user, db: database.name, db_user: limits.dbUser });
      this.#run(engine, socket, { database: database.name, ...limits }, upstream, identity, audit);
    } catch (e) {
      const err = e instanceof GatehouseError ? e : new GatehouseError(ErrorCode.INTERNAL, (e as Error).message);
      log.warn('db session refused', { db: header?.db, db_user: header?.db_user, code: err.code, reason: err.message });
      if (audit) void audit.refused(err.message, err.code);
      if (!socket.destroyed) {
        writeHeaderLine(socket, { ok: false, code: err.code, message: err.message });
        socket.end();
      }
    }
  }

  #auditFor(header: DbForwardedHeader, identity: TlsIdentity): DbSessionAudit {
    return new DbSessionAudit({
      audit: this.#opts.audit,
      log: this.#opts.log,
      user: identity.user,
      db: header.db,
      dbUser: header.db_user,
      ...(header.db_name !== undefined ? { dbName: header.db_name } : {}),
      protocol: header.protocol,
      clientAddress: header.client_addr,
      ...(identity.device ? { device: identity.device } : {}),
      deviceTrustMode: this.#opts.deviceTrustMode,
    });
  }

  #run(
    engine: DbEngine,
    client: tls.TLSSocket,
    route: { database: string; dbUser: string; dbName?: string },
    upstream: DbUpstream,
    identity: TlsIdentity,
    audit: DbSessionAudit,
  ): void {
    const session = engine.start({
      client,
      database: route.database,
      dbUser: route.dbUser,
      ...(route.dbName !== undefined ? { dbName: route.dbName } : {}),
      upstream,
      onQuery: (statement) => audit.query(statement),
      log: this.#opts.log,
    });
    const live: LiveSession = { session, targets: sessionTargets(identity, route.database) };
    this.#sessions.add(live);
    void session.done.then((bytes) => {
      this.#sessions.delete(live);
      client.destroy();
      return audit.ended(bytes, live.endedBy);
    });
  }
}
