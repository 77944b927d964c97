// Channel-level limits of one SSH connection: the certificate must still be valid when a new
// session channel opens (a multiplexed connection outlives its login otherwise), at most
// `max_sessions` session channels may be open at once, and with `disconnect_expired_cert` the
// live sessions end when the certificate does.
import { certTime } from '../../src-shared/sshcert/index.ts';
import type { SshCertificate } from '../../src-shared/sshcert/types.ts';
import { DEFAULT_MAX_SESSIONS } from '../resources/role.ts';
import type { SessionLimits } from './types.ts';

/** The limits when the authorizer names none (OpenSSH's MaxSessions default, no disconnect). */
export const DEFAULT_SESSION_LIMITS: Required<SessionLimits> = Object.freeze({
  maxSessions: DEFAULT_MAX_SESSIONS,
  maxSessionsRoles: [],
  disconnectExpiredCert: false,
});

/**
 * Session channels one user (certificate key id) may hold open on a node over all connections:
 * max_sessions bounds one connection, this bounds a user who opens many connections.
 */
export const DEFAULT_MAX_USER_SESSIONS = 100;

/**
 * setTimeout's ceiling (about 24.8 days). A certificate valid longer gets a timer re-armed at
 * that distance, so a far expiry still fires instead of overflowing to "now".
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function withDefaults(limits: SessionLimits | undefined): Required<SessionLimits> {
  return { ...DEFAULT_SESSION_LIMITS, ...limits };
}

/** Milliseconds until `cert` expires (<= 0: expired); undefined when it never does. */
export function msUntilExpiry(cert: SshCertificate, now = Date.now()): number | undefined {
  if (cert.validBefore > 253402300799n) return undefined;
  return Number(cert.validBefore) * 1000 - now;
}

/** The refusal for a channel opened with an expired certificate, or undefined while it is valid. */
export function expiredCertReason(cert: SshCertificate, now = Date.now()): string | undefined {
  const left = msUntilExpiry(cert, now);
  if (left === undefined || left > 0) return undefined;
  return `certificate expired at ${certTime(cert.validBefore)}; log in again`;
}

/** The refusal for one session channel too many, naming the limit and where it comes from. */
export function tooManySessionsReason(limits: Required<SessionLimits>): string {
  const source =
    limits.maxSessionsRoles.length === 0
      ? 'the default max_sessions'
      : `max_sessions of ${limits.maxSessionsRoles.length === 1 ? 'role' : 'roles'} ${limits.maxSessionsRoles.join(', ')}`;
  return `too many sessions on this connection: at most ${limits.maxSessions} may be open at once (${source}); close one or open a new connection`;
}

/** The refusal when a user already holds `limit` sessions on this node over all connections. */
export function tooManyUserSessionsReason(user: string, node: string, limit: number): string {
  return `too many sessions for user "${user}" on node "${node}": at most ${limit} may be open at once over all connections; close some first`;
}

/** What the user sees and the audit log records when disconnect_expired_cert ends a session. */
export function certExpiredDisconnectMessage(cert: SshCertificate): string {
  return `gatehouse: the certificate expired at ${certTime(cert.validBefore)} (disconnect_expired_cert); log in again`;
}

/**
 * Calls `onExpiry` when `cert` expires; returns a cancel function. Does nothing for a
 * certificate that never expires.
 */
export function onCertExpiry(cert: SshCertificate, onExpiry: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = msUntilExpiry(cert);
    if (left === undefined) return;
    if (left <= 0) {
      onExpiry();
      return;
    }
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
