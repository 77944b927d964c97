// The decision for one new session channel. Made for every channel, never cached for the
// connection: over a multiplexed connection (OpenSSH ControlMaster) the certificate may have
// expired, the user been deleted, a role changed, a lock or a device trust requirement come in
// since the last channel. Order: the last known max_sessions (cheap, no authorizer call), the
// certificate's expiry, the cluster's authorizer, the OS user.
import type { SshCertificate } from '../../src-shared/sshcert/types.ts';
import { resolveLogin, type OsUser, type ProcessIdentity } from './os-user.ts';
import { expiredCertReason, tooManySessionsReason, withDefaults } from './session-limits.ts';
import type { NodeSshServerOptions } from './types.ts';

export type SessionLimitsInForce = ReturnType<typeof withDefaults>;

export type SessionGate =
  | { ok: true; user: OsUser; switchUser: boolean; limits: SessionLimitsInForce }
  | { ok: false; reason: string; recorded?: boolean };

/** What the gate keeps per connection. */
export interface ChannelGateState {
  clientAddress: string;
  /** Session channels, counted against max_sessions while open. */
  sessions: Iterable<{ readonly open: boolean }>;
  /** Channels waiting for their authorization right now. */
  authorizing: number;
  /** The limits of the last allowed decision on this connection. */
  limits: SessionLimitsInForce | undefined;
}

/** Session channels the client has not closed yet: what max_sessions bounds. */
export function openSessions(sessions: Iterable<{ readonly open: boolean }>): number {
  let n = 0;
  for (const s of sessions) if (s.open) n++;
  return n;
}

export class ChannelGate {
  constructor(
    private readonly opts: Pick<NodeSshServerOptions, 'name' | 'labels' | 'authorizer' | 'logger'>,
    private readonly self: ProcessIdentity,
  ) {}

  /**
   * The caller checks `limits.maxSessions` against the open sessions again after this resolves,
   * then counts the new session without awaiting anything in between.
   */
  async decide(conn: ChannelGateState, identity: { cert: SshCertificate; login: string }): Promise<SessionGate> {
    // Past the last known limit (open + being authorized) the channel is refused unasked: a
    // client opening channels in a loop costs no authorization per channel.
    const known = conn.limits;
    if (known && openSessions(conn.sessions) + conn.authorizing >= known.maxSessions) {
      return { ok: false, reason: tooManySessionsReason(known) };
    }
    conn.authorizing++;
    try {
      const gate = await this.ask(conn, identity);
      if (gate.ok) conn.limits = gate.limits;
      return gate;
    } finally {
      conn.authorizing--;
    }
  }

  private async ask(conn: ChannelGateState, identity: { cert: SshCertificate; login: string }): Promise<SessionGate> {
    const expired = expiredCertReason(identity.cert);
    if (expired) return { ok: false, reason: expired };
    try {
      const decision = await this.opts.authorizer.authorize({
        cert: identity.cert,
        login: identity.login,
        node: { name: this.opts.name, labels: this.opts.labels },
        clientAddress: conn.clientAddress,
      });
      if (!decision.allowed) return { ok: false, reason: decision.reason, recorded: decision.recorded };
      const resolved = await resolveLogin(identity.login, this.opts.name, this.self);
      if (!resolved.ok) return resolved;
      return { ok: true, user: resolved.user, switchUser: resolved.switchUser, limits: withDefaults(decision.limits) };
    } catch (err) {
      this.opts.logger.error('session authorization failed', { login: identity.login, error: err as Error });
      return { ok: false, reason: `node "${this.opts.name}" could not check access (internal error); try again` };
    }
  }
}
