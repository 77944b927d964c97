// The node service's contract with the rest of the cluster: what it needs to start and whom
// it asks before a session may begin.
import type { SshCertificate } from '../../src-shared/sshcert/types.ts';
import type { Logger } from '../log/logger.ts';
import type { AuditEmitter } from '../audit/audit-events.ts';
import type { LockFeed } from '../locks/lock-targets.ts';
import type { SshAlgorithmSettings } from '../../src-shared/ssh-algorithms.ts';

export type { Logger };

export interface NodeIdentity {
  name: string;
  labels: Record<string, string>;
}

export interface SessionAuthorizationRequest {
  /** The verified user certificate the connection authenticated with. */
  cert: SshCertificate;
  /** The OS login the user asked for (the SSH user name). */
  login: string;
  node: NodeIdentity;
  /** The peer's IP address as the node sees it. */
  clientAddress: string;
}

/** Role options the node enforces on a connection; absent fields take the defaults (session-limits.ts). */
export interface SessionLimits {
  /** Session channels one connection may hold open (role option max_sessions; default 10). */
  maxSessions?: number;
  /** The roles that set maxSessions, named in the refusal. */
  maxSessionsRoles?: string[];
  /** End live sessions when the certificate expires (role option disconnect_expired_cert). */
  disconnectExpiredCert?: boolean;
}

/**
 * Asked again for every new session channel, so a connection never outlives a change of roles,
 * a deleted user or a lock. `recorded`: the authorizer already put this denial in the audit log
 * (the node does not repeat it).
 */
export type AuthorizationDecision =
  { allowed: true; limits?: SessionLimits } | { allowed: false; reason: string; recorded?: boolean };

export interface SessionAuthorizer {
  authorize(req: SessionAuthorizationRequest): Promise<AuthorizationDecision>;
}

export interface NodeSshServerOptions {
  name: string;
  labels: Record<string, string>;
  listenHost: string;
  /** 0 picks a free port; `start()` reports the one chosen. */
  listenPort: number;
  /** The host private key, OpenSSH or PEM text. */
  hostKey: string;
  /** An OpenSSH host certificate for `hostKey`, presented when the ssh2 host-cert patch is in. */
  hostCertificate?: Buffer;
  /** SSH wire blobs of the user CAs. Called at every authentication so CA rotation needs no restart. */
  trustedUserCAs: () => Buffer[];
  authorizer: SessionAuthorizer;
  /** New locks: connections they match are told the lock message and closed. */
  locks?: LockFeed;
  logger: Logger;
  /** session.start / session.end / access.denied go here; discarded when absent. */
  audit?: AuditEmitter;
  /** Session channels one user may hold open on this node over all connections (default DEFAULT_MAX_USER_SESSIONS). */
  maxSessionsPerUser?: number;
  /** The cluster's device trust mode, read per session (session events omit trusted_device when "off"). */
  deviceTrustMode?: () => string;
  /** From accept (before the SSH banner) to a finished authentication; default LOGIN_GRACE_MS. */
  loginGraceMs?: number;
  /** Connections open at once from one source address; default DEFAULT_MAX_CONNECTIONS_PER_IP. */
  maxConnectionsPerSource?: number;
  /** ssh_service.accept_env: client variables sessions take (OpenSSH AcceptEnv); default LANG, LC_*. */
  acceptEnv?: readonly string[];
  /** The daemon's `ssh:` settings; absent lists take src-shared/ssh-algorithms.ts's defaults. */
  sshAlgorithms?: SshAlgorithmSettings;
}

export interface ListeningAddress {
  host: string;
  port: number;
}
