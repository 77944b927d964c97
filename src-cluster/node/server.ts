// The Gatehouse node: an SSH server that admits only users holding a certificate from the
// cluster's user CA, asks the cluster's authorizer before each session channel (never once per
// connection: a multiplexed connection must not outlive the access it was granted), and runs
// real shells.
import { sshDeviceFields } from '../../src-shared/cert-fields.ts';
import { existsSync } from 'node:fs';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AuthContext, ClientInfo, Connection, Session } from 'ssh2';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { assertPatchedSsh2 } from '../../src-shared/ssh2-vendored.ts';
import { serverAlgorithms, SSH_IDENT } from '../../src-shared/ssh-algorithms.ts';
import type { SshCertificate } from '../../src-shared/sshcert/types.ts';
import { checkCertificateLogin } from './cert-auth.ts';
import { currentProcessIdentity, lookupGroupId, type ProcessIdentity } from './os-user.ts';
import { NodeSession } from './session.ts';
import { discardAudit } from '../audit/audit-events.ts';
import { recordSessionDenied, SessionAudit, type SessionAuditContext } from './session-audit.ts';
import { sshAccessTargets, type LockNotice } from '../locks/lock-targets.ts';
import type { ListeningAddress, NodeSshServerOptions } from './types.ts';
import { guardSshListener } from '../limits/listener-guards.ts';
import { DEFAULT_MAX_CONNECTIONS_PER_IP } from '../limits/limits.ts';
import {
  certExpiredDisconnectMessage,
  DEFAULT_MAX_USER_SESSIONS,
  onCertExpiry,
  tooManySessionsReason,
  tooManyUserSessionsReason,
} from './session-limits.ts';
import { ChannelGate, openSessions, type ChannelGateState, type SessionGate } from './channel-gate.ts';
import { DEFAULT_ACCEPT_ENV, EnvAllowList } from './session-env.ts';

/** SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (RFC 4254 §5.1). */
export const OPEN_ADMINISTRATIVELY_PROHIBITED = 1;

const MAX_REFUSED_AUTH_ATTEMPTS = 10;
/** Like sshd's LoginGraceTime, counted from accept (default of node.login_grace_time). */
const LOGIN_GRACE_MS = 60_000;
const SESSION_END_GRACE_MS = 5000;
const CONNECTION_END_GRACE_MS = 3000;
const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];

type RejectChannel = (reasonCode?: number, description?: string) => void;

interface ConnectionState extends ChannelGateState {
  client: Connection;
  socket: Socket | undefined;
  clientAddress: string;
  clientPort: number;
  identity: { cert: SshCertificate; login: string } | undefined;
  /** The server → client cipher of the last key exchange, for the login's log line. */
  cipher: string;
  refusedAttempts: number;
  /** Set when a lock matched: every later channel is refused with it, whatever the authorizer says. */
  refusal: string | undefined;
  sessions: Set<NodeSession>;
  /** Cancels the disconnect_expired_cert timer. */
  cancelExpiry: (() => void) | undefined;
}

export class NodeSshServer {
  private server: ssh2.Server | undefined;
  private readonly connections = new Set<ConnectionState>();
  private readonly sessions = new Set<NodeSession>();
  private readonly self: ProcessIdentity = currentProcessIdentity();
  private setprivPath = '';
  private ttyGid: number | undefined;
  private closing: Promise<void> | undefined;
  private shutdownMessage = '';
  private unsubscribeLocks: (() => void) | undefined;
  /** Stops a connection's login grace timer, which runs from accept (guardSshListener). */
  private authenticated: (socket: Socket | undefined) => void = () => {};
  private readonly channelGate: ChannelGate;
  private readonly acceptEnv: EnvAllowList;

  constructor(private readonly opts: NodeSshServerOptions) {
    this.channelGate = new ChannelGate(opts, this.self);
    // Built once: a bad list fails the node's start, not each session.
    this.acceptEnv = new EnvAllowList(opts.acceptEnv ?? DEFAULT_ACCEPT_ENV);
  }

  async start(): Promise<ListeningAddress> {
    if (this.server) throw new GatehouseError(ErrorCode.INTERNAL, `node "${this.opts.name}" is already started`);
    assertPatchedSsh2();
    if (this.self.uid === 0) {
      const found = SETPRIV_PATHS.find((p) => existsSync(p));
      if (!found) {
        throw new GatehouseError(
          ErrorCode.CONFIG,
          'setpriv (util-linux) is needed to start sessions as other users when the node runs as root; install util-linux',
        );
      }
      this.setprivPath = found;
      this.ttyGid = await lookupGroupId('tty');
    }
    let server: ssh2.Server;
    try {
      const hostKey = this.opts.hostCertificate
        ? { key: this.opts.hostKey, certificate: this.opts.hostCertificate }
        : this.opts.hostKey;
      server = new ssh2.Server(this.serverConfig(hostKey), (client, info) => this.onConnection(client, info));
    } catch (err) {
      throw new GatehouseError(
        ErrorCode.CONFIG,
        `node "${this.opts.name}": unusable host key: ${(err as Error).message}`,
      );
    }
    this.server = server;
    this.authenticated = guardSshListener(
      server,
      {
        loginGraceMs: this.opts.loginGraceMs ?? LOGIN_GRACE_MS,
        maxConnectionsPerSource: this.opts.maxConnectionsPerSource ?? DEFAULT_MAX_CONNECTIONS_PER_IP,
      },
      this.opts.logger,
    );
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) =>
        reject(
          new GatehouseError(
            ErrorCode.CONFIG,
            `node "${this.opts.name}" cannot listen on ${this.opts.listenHost}:${this.opts.listenPort}: ${err.message}`,
          ),
        );
      server.once('error', onError);
      server.listen(this.opts.listenPort, this.opts.listenHost, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err: Error) => this.opts.logger.error('ssh listener error', { error: err }));
    this.unsubscribeLocks = this.opts.locks?.subscribe((lock) => this.onLock(lock));
    const addr = this.address();
    this.opts.logger.info('node ssh server listening', { node: this.opts.name, host: addr.host, port: addr.port });
    return addr;
  }

  /** The banner and algorithm lists of src-shared/ssh-algorithms.ts; the same for a replaced host key. */
  private serverConfig(hostKey: string | { key: string; certificate: Buffer }): ssh2.ServerConfig {
    return {
      hostKeys: [hostKey],
      ident: SSH_IDENT,
      // ssh2 types each list as a union of names; ours are strings checked against its supported ones.
      algorithms: serverAlgorithms(this.opts.sshAlgorithms) as ssh2.Algorithms,
    };
  }

  /**
   * A new host key (and certificate) for connections accepted from now on — a renewed host
   * identity — while open connections keep the key they were made with. ssh2 fixes its host keys
   * when a Server is built, so a fresh Server is built with the new key and its accept handler
   * takes the place of the old one on the same listening socket (the guard that
   * guardSshListener prepended stays first). No connection is dropped and the port never closes.
   */
  replaceHostKey(hostKey: string, hostCertificate?: Buffer): void {
    const current = this.server;
    if (!current) throw new GatehouseError(ErrorCode.INTERNAL, `node "${this.opts.name}" is not started`);
    const fresh = new ssh2.Server(
      this.serverConfig(hostCertificate ? { key: hostKey, certificate: hostCertificate } : hostKey),
      (client, info) => this.onConnection(client, info),
    );
    const rawOf = (s: ssh2.Server) => (s as unknown as { _srv: NetServer })._srv;
    const listening = rawOf(current);
    const oldAccept = listening.listeners('connection').at(-1);
    const newAccept = rawOf(fresh).listeners('connection').at(-1);
    if (!oldAccept || !newAccept) {
      throw new GatehouseError(
        ErrorCode.INTERNAL,
        'ssh2 Server without an accept handler; cannot replace the host key',
      );
    }
    listening.removeListener('connection', oldAccept as (...args: unknown[]) => void);
    listening.on('connection', newAccept as (...args: unknown[]) => void);
    this.opts.logger.info('node host key replaced for new connections', { node: this.opts.name });
  }

  /**
   * The proxy of this same process hands over its client's TLS connection (paused, the routing
   * header answered) instead of dialing this node over loopback TCP. It enters exactly where an
   * accepted socket does: the per-source cap and login grace timer (guardSshListener) and then
   * the SSH handshake, host certificate and user certificate checks, each channel's authorization.
   */
  acceptFromProxy(stream: Duplex): void {
    const server = this.server;
    if (!server || this.closing) {
      stream.destroy();
      return;
    }
    server.injectSocket(stream as Socket);
  }

  address(): ListeningAddress {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) throw new GatehouseError(ErrorCode.INTERNAL, `node "${this.opts.name}" is not listening`);
    return { host: a.address, port: a.port };
  }

  /** Sessions open right now (each a shell or command, or about to become one). */
  activeSessions(): number {
    return this.sessions.size;
  }

  /** Tells open sessions `message`, ends them (exit status, close), then stops listening. */
  close(message = 'the node is shutting down'): Promise<void> {
    this.closing ??= this.shutdown(message);
    return this.closing;
  }

  private async shutdown(message: string): Promise<void> {
    this.shutdownMessage = message;
    this.unsubscribeLocks?.();
    const server = this.server;
    if (!server) return;
    // Stop accepting first; the callback fires once every connection has ended.
    const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Bounded: a client that stops reading must not hold the shutdown up.
    await Promise.race([
      Promise.all([...this.sessions].map((s) => s.terminate(message))),
      new Promise((resolve) => setTimeout(resolve, SESSION_END_GRACE_MS).unref()),
    ]);
    for (const c of this.connections) c.client.end();
    const timer = setTimeout(() => {
      for (const c of this.connections) c.socket?.destroy();
    }, CONNECTION_END_GRACE_MS);
    await listenerClosed;
    clearTimeout(timer);
    this.opts.logger.info('node ssh server stopped', { node: this.opts.name });
  }

  /** A lock came into force: connections it matches are told why and closed. */
  private onLock(lock: LockNotice): void {
    for (const conn of this.connections) {
      const identity = conn.identity;
      if (!identity || !lock.matches(sshAccessTargets(identity.cert, identity.login, this.opts.name))) continue;
      this.opts.logger.warn('closing connection: lock in force', {
        node: this.opts.name,
        login: identity.login,
        keyId: identity.cert.keyId,
        client: conn.clientAddress,
        lock: lock.name,
        reason: lock.message,
      });
      // No new channel on this connection either, whatever was decided for it before.
      conn.refusal = lock.message;
      void this.endConnection(conn, lock.message);
    }
  }

  /** Tells the connection's sessions `message`, ends them and closes the connection. */
  private async endConnection(conn: ConnectionState, message: string): Promise<void> {
    // Bounded like shutdown: a client that stops reading must not keep its session.
    await Promise.race([
      Promise.all([...conn.sessions].map((s) => s.terminate(message))),
      new Promise((resolve) => setTimeout(resolve, SESSION_END_GRACE_MS).unref()),
    ]);
    conn.client.end();
    setTimeout(() => conn.socket?.destroy(), CONNECTION_END_GRACE_MS).unref();
  }

  private onConnection(client: Connection, info: ClientInfo): void {
    const socket = (client as unknown as { _sock?: Socket })._sock;
    const conn: ConnectionState = {
      client,
      socket,
      clientAddress: info.ip,
      clientPort: info.port,
      identity: undefined,
      cipher: '',
      refusedAttempts: 0,
      refusal: undefined,
      sessions: new Set(),
      authorizing: 0,
      limits: undefined,
      cancelExpiry: undefined,
    };
    this.connections.add(conn);
    client.on('close', () => {
      this.connections.delete(conn);
      conn.cancelExpiry?.();
      for (const s of conn.sessions) s.connectionClosed();
    });
    client.on('error', (err: Error) =>
      this.opts.logger.debug('ssh connection error', { client: conn.clientAddress, error: err }),
    );
    if (this.closing) {
      client.end();
      return;
    }
    // The login grace timer has run since accept (guardSshListener); authentication stops it.
    client.on('ready', () => this.authenticated(socket));
    client.on('handshake', (negotiated) => (conn.cipher = negotiated.sc.cipher));
    client.on('authentication', (ctx) => this.onAuthentication(conn, ctx));
    client.on('session', (accept, reject) => void this.onSessionOpen(conn, accept, reject as RejectChannel));
    const refuseForwarding = (what: string) => (_accept: unknown, reject: unknown) => {
      this.opts.logger.info('channel refused', { what, login: conn.identity?.login, client: conn.clientAddress });
      (reject as RejectChannel)(OPEN_ADMINISTRATIVELY_PROHIBITED, `${what} is not allowed on Gatehouse nodes`);
    };
    client.on('tcpip', refuseForwarding('port forwarding'));
    client.on('openssh.streamlocal', refuseForwarding('unix socket forwarding'));
    client.on('request', (_accept, reject, name) => {
      this.opts.logger.info('global request refused', {
        name,
        login: conn.identity?.login,
        client: conn.clientAddress,
      });
      reject?.();
    });
  }

  private onAuthentication(conn: ConnectionState, ctx: AuthContext): void {
    const refuse = (reason: string, cert?: SshCertificate) => {
      this.opts.logger.warn('ssh authentication refused', {
        node: this.opts.name,
        login: ctx.username,
        client: conn.clientAddress,
        method: ctx.method,
        keyId: cert?.keyId,
        serial: cert?.serial,
        reason,
      });
      ctx.reject(['publickey']);
      if (++conn.refusedAttempts >= MAX_REFUSED_AUTH_ATTEMPTS) {
        this.opts.logger.warn('too many refused authentication attempts; disconnecting', {
          client: conn.clientAddress,
        });
        conn.client.end();
      }
    };
    if (ctx.method === 'none') {
      // Every client starts by asking which methods exist; that is not an attempt.
      ctx.reject(['publickey']);
      return;
    }
    if (ctx.method !== 'publickey') {
      refuse(`${ctx.method} authentication is not accepted; this node only accepts Gatehouse user certificates`);
      return;
    }
    let trusted: Buffer[];
    try {
      trusted = this.opts.trustedUserCAs();
    } catch (err) {
      this.opts.logger.error('cannot read the trusted user CAs', { error: err as Error });
      refuse('the trusted user CAs are unavailable');
      return;
    }
    const result = checkCertificateLogin(
      {
        login: ctx.username,
        keyAlgo: ctx.key.algo,
        keyBlob: ctx.key.data,
        clientAddress: conn.clientAddress,
        signature: ctx.signature,
        signedData: ctx.blob,
      },
      trusted,
    );
    if (!result.ok) {
      refuse(result.reason, result.cert);
      return;
    }
    if (ctx.signature) {
      conn.identity = { cert: result.cert, login: ctx.username };
      this.opts.logger.info('ssh authentication accepted', {
        node: this.opts.name,
        login: ctx.username,
        client: conn.clientAddress,
        keyId: result.cert.keyId,
        serial: result.cert.serial,
        // Empty when the login was not device-authenticated.
        device_id: sshDeviceFields(result.cert)?.deviceId ?? '',
        // What the client agreed to: throughput and compliance questions start here.
        cipher: conn.cipher,
      });
    }
    // Without a signature this answers the client's "would you accept this key?" query.
    ctx.accept();
  }

  private async onSessionOpen(conn: ConnectionState, accept: () => Session, reject: RejectChannel): Promise<void> {
    const identity = conn.identity;
    if (this.closing || !identity) {
      return reject(OPEN_ADMINISTRATIVELY_PROHIBITED, this.closing ? this.shutdownMessage : 'not authenticated');
    }
    const gate = await this.channelGate.decide(conn, identity);
    // Checked after the await, with nothing async until the session is counted: channels opened
    // together cannot all pass the max_sessions check before any of them is counted.
    if (this.closing) return reject(OPEN_ADMINISTRATIVELY_PROHIBITED, this.shutdownMessage);
    const reason = this.refusalReason(conn, identity.cert.keyId, gate);
    if (reason !== undefined) {
      const recorded = !conn.refusal && !gate.ok && gate.recorded === true;
      this.opts.logger.warn('session refused', {
        node: this.opts.name,
        login: identity.login,
        keyId: identity.cert.keyId,
        client: conn.clientAddress,
        open_sessions: openSessions(conn.sessions),
        reason,
      });
      reject(OPEN_ADMINISTRATIVELY_PROHIBITED, reason);
      if (!recorded) await recordSessionDenied(this.auditContext(conn, identity), reason);
      return;
    }
    if (!gate.ok) return; // refusalReason has a reason for every refused gate
    if (gate.limits.disconnectExpiredCert && !conn.cancelExpiry) this.disconnectAtExpiry(conn, identity.cert);
    const session = new NodeSession(accept(), {
      cert: identity.cert,
      login: identity.login,
      user: gate.user,
      switchUser: gate.switchUser,
      setprivPath: this.setprivPath,
      ttyGid: this.ttyGid,
      endpoints: {
        clientAddress: conn.clientAddress,
        clientPort: conn.clientPort,
        serverAddress: conn.socket?.localAddress ?? this.opts.listenHost,
        serverPort: conn.socket?.localPort ?? this.opts.listenPort,
      },
      logger: this.opts.logger,
      audit: new SessionAudit(this.auditContext(conn, identity)),
      acceptEnv: this.acceptEnv,
    });
    this.sessions.add(session);
    conn.sessions.add(session);
    void session.done.then(() => {
      this.sessions.delete(session);
      conn.sessions.delete(session);
    });
  }

  /**
   * Why this channel is refused, or undefined when it may open: a lock seen on the connection, the
   * gate's refusal, max_sessions on this connection, or the user's sessions on this node.
   */
  private refusalReason(conn: ConnectionState, user: string, gate: SessionGate): string | undefined {
    if (conn.refusal) return conn.refusal;
    if (!gate.ok) return gate.reason;
    if (openSessions(conn.sessions) >= gate.limits.maxSessions) return tooManySessionsReason(gate.limits);
    const limit = this.opts.maxSessionsPerUser ?? DEFAULT_MAX_USER_SESSIONS;
    let held = 0;
    for (const c of this.connections) if (c.identity?.cert.keyId === user) held += openSessions(c.sessions);
    return held >= limit ? tooManyUserSessionsReason(user, this.opts.name, limit) : undefined;
  }

  /** disconnect_expired_cert: when the certificate expires, its sessions are told why and closed. */
  private disconnectAtExpiry(conn: ConnectionState, cert: SshCertificate): void {
    conn.cancelExpiry = onCertExpiry(cert, () => {
      const message = certExpiredDisconnectMessage(cert);
      this.opts.logger.warn('closing connection: certificate expired (disconnect_expired_cert)', {
        node: this.opts.name,
        login: conn.identity?.login,
        keyId: cert.keyId,
        client: conn.clientAddress,
      });
      conn.refusal = message;
      void this.endConnection(conn, message);
    });
  }

  private auditContext(conn: ConnectionState, identity: { cert: SshCertificate; login: string }): SessionAuditContext {
    return {
      audit: this.opts.audit ?? discardAudit,
      logger: this.opts.logger,
      node: this.opts.name,
      cert: identity.cert,
      login: identity.login,
      clientAddress: conn.clientAddress,
      deviceTrustMode: this.opts.deviceTrustMode,
    };
  }
}
