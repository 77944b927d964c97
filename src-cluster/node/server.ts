// The Gatehouse node: an SSH server that admits only users holding a certificate from the
// cluster's user CA, asks the cluster's authorizer before each session, and runs real shells.
import { sshDeviceFields } from '../auth/device-certs.ts';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { AuthContext, ClientInfo, Connection, Session } from 'ssh2';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { SshCertificate } from '../../src-shared/sshcert/types.ts';
import { checkCertificateLogin } from './cert-auth.ts';
import { currentProcessIdentity, lookupGroupId, resolveLogin, type OsUser, type ProcessIdentity } from './os-user.ts';
import { NodeSession } from './session.ts';
import { discardAudit } from '../audit/audit-events.ts';
import { recordSessionDenied, SessionAudit, type SessionAuditContext } from './session-audit.ts';
import { sshAccessTargets, type LockNotice } from '../locks/lock-targets.ts';
import type { ListeningAddress, NodeSshServerOptions } from './types.ts';
import { guardSshListener } from '../limits/listener-guards.ts';
import { DEFAULT_MAX_CONNECTIONS_PER_IP } from '../limits/limits.ts';

/** SSH_OPEN_ADMINISTRATIVELY_PROHIBITED (RFC 4254 §5.1). */
export const OPEN_ADMINISTRATIVELY_PROHIBITED = 1;

const MAX_REFUSED_AUTH_ATTEMPTS = 10;
/** Like sshd's LoginGraceTime, counted from accept (default of node.login_grace_time). */
const LOGIN_GRACE_MS = 60_000;
const SESSION_END_GRACE_MS = 5000;
const CONNECTION_END_GRACE_MS = 3000;
const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];

type RejectChannel = (reasonCode?: number, description?: string) => void;

type SessionGate = { ok: true; user: OsUser; switchUser: boolean } | { ok: false; reason: string; recorded?: boolean };

interface ConnectionState {
  client: Connection;
  socket: Socket | undefined;
  clientAddress: string;
  clientPort: number;
  identity: { cert: SshCertificate; login: string } | undefined;
  refusedAttempts: number;
  /** The authorization + OS-user decision, made once per connection. */
  gate: Promise<SessionGate> | undefined;
  sessions: Set<NodeSession>;
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

  constructor(private readonly opts: NodeSshServerOptions) {}

  async start(): Promise<ListeningAddress> {
    if (this.server) throw new GatehouseError(ErrorCode.INTERNAL, `node "${this.opts.name}" is already started`);
    assertSsh2Patched(this.opts.hostCertificate !== undefined);
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
      server = new ssh2.Server({ hostKeys: [hostKey] }, (client, info) => this.onConnection(client, info));
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
      conn.gate = Promise.resolve({ ok: false, reason: lock.message });
      void this.closeLocked(conn, lock.message);
    }
  }

  private async closeLocked(conn: ConnectionState, message: string): Promise<void> {
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
      refusedAttempts: 0,
      gate: undefined,
      sessions: new Set(),
    };
    this.connections.add(conn);
    client.on('close', () => {
      this.connections.delete(conn);
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
    conn.gate ??= this.decide(conn, identity);
    const gate = await conn.gate;
    if (!gate.ok) {
      this.opts.logger.warn('session refused', {
        node: this.opts.name,
        login: identity.login,
        keyId: identity.cert.keyId,
        client: conn.clientAddress,
        reason: gate.reason,
      });
      if (!gate.recorded) await recordSessionDenied(this.auditContext(conn, identity), gate.reason);
      return reject(OPEN_ADMINISTRATIVELY_PROHIBITED, gate.reason);
    }
    if (this.closing) return reject(OPEN_ADMINISTRATIVELY_PROHIBITED, this.shutdownMessage);
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
    });
    this.sessions.add(session);
    conn.sessions.add(session);
    void session.done.then(() => {
      this.sessions.delete(session);
      conn.sessions.delete(session);
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

  private async decide(conn: ConnectionState, identity: { cert: SshCertificate; login: string }): Promise<SessionGate> {
    const node = { name: this.opts.name, labels: this.opts.labels };
    try {
      const decision = await this.opts.authorizer.authorize({
        cert: identity.cert,
        login: identity.login,
        node,
        clientAddress: conn.clientAddress,
      });
      if (!decision.allowed) return { ok: false, reason: decision.reason, recorded: decision.recorded };
      const resolved = await resolveLogin(identity.login, this.opts.name, this.self);
      if (!resolved.ok) return resolved;
      return { ok: true, user: resolved.user, switchUser: resolved.switchUser };
    } catch (err) {
      // Not cached: the next session on this connection asks again.
      conn.gate = undefined;
      this.opts.logger.error('session authorization failed', { login: identity.login, error: err as Error });
      return { ok: false, reason: `node "${this.opts.name}" could not check access (internal error); try again` };
    }
  }
}

const REJECT_PATCH_MARKER = 'gatehouse-patch: reject(reasonCode, description)';
/** Written by scripts/patch-ssh2.mjs; without it ssh2 ignores a host key's `certificate`. */
const CERT_PATCH_FILE = 'lib/protocol/gatehouse-cert.js';

/**
 * Without the reject patch a denial would reach the user as "connect failed" with no reason;
 * without the cert patch the host certificate would silently not be offered.
 */
function assertSsh2Patched(needHostCert: boolean): void {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('ssh2/package.json'));
  const fix = '(npm install runs the ssh2 patches from scripts/postinstall.mjs)';
  if (!readFileSync(join(root, 'lib', 'server.js'), 'utf8').includes(REJECT_PATCH_MARKER)) {
    throw new GatehouseError(
      ErrorCode.INTERNAL,
      `ssh2 at ${root} lacks the channel-reject patch; run "node scripts/patch-ssh2-reject.mjs" ${fix}`,
    );
  }
  if (needHostCert && !existsSync(join(root, CERT_PATCH_FILE))) {
    throw new GatehouseError(
      ErrorCode.INTERNAL,
      `ssh2 at ${root} cannot present host certificates; run "node scripts/patch-ssh2.mjs" ${fix}`,
    );
  }
}
