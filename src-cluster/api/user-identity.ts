// The check every authenticated user call makes: a user certificate (not a service's), the newest
// admin identity when it is the built-in admin, and no lock on the user, its roles or its device.
// Shared by every service that takes user calls, so they refuse the same way.
import { BUILTIN_ADMIN_USER } from '../../src-shared/cert-fields.ts';
import type { AuthServer } from '../auth/auth-server.ts';
import type { TlsIdentity } from '../auth/x509.ts';
import { discardAudit, type AuditEmitter } from '../audit/audit-events.ts';
import { errorMessage, recordRefusal } from '../audit/audit-emit.ts';
import { accessTargets } from '../locks/lock-targets.ts';
import type { Logger } from '../log/logger.ts';
import { requireIdentity, type Peer } from './peer.ts';

export interface UserCallDeps {
  auth: AuthServer;
  log: Logger;
  audit?: AuditEmitter;
}

/**
 * `locks: 'report'` skips the lock refusal for calls that only report the caller's own standing
 * (GetDeviceStatus answers with the lock's message so a locked user learns why); every call that
 * grants or reads anything else keeps the default.
 */
export async function requireUserCall(
  peer: Peer,
  deps: UserCallDeps,
  options: { locks?: 'refuse' | 'report' } = {},
): Promise<TlsIdentity> {
  const { auth } = deps;
  const who = requireIdentity(peer);
  if (who.user === BUILTIN_ADMIN_USER) {
    // Only the newest admin identity file works; an older copy is refused and recorded.
    await auth.requireCurrentAdminCert(peer.certDer).catch(async (e: unknown) => {
      const fields = { reason: 'admin_identity_replaced', client_address: peer.address };
      const event = {
        type: 'access.denied',
        success: false,
        user: who.user,
        message: errorMessage(e),
        fields,
      } as const;
      await recordRefusal(deps.audit ?? discardAudit, event, deps.log);
      deps.log.warn('replaced admin identity refused', { client: peer.address });
      throw e;
    });
  }
  if (options.locks === 'report') return who;
  // Every authenticated call is new access: a lock on the caller's user, roles or device refuses it.
  await auth.access.requireNoLock(
    accessTargets({ user: who.user, roles: who.roles, ...(who.device ? { device: who.device.deviceId } : {}) }),
    { action: 'api' },
  );
  return who;
}
