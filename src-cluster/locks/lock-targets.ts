// What a lock can match and how an access attempt names itself to the lock view. Kept apart from
// the watcher so the authorizer and the node depend on this small contract only.
import { SSH_EXT_ROLES, sshDeviceFields } from '../../src-shared/cert-fields.ts';
import type { SshCertificate } from '../../src-shared/sshcert/index.ts';
import { lockTarget, type LockSpec, type LockTarget, type LockTargetKind } from '../resources/lock.ts';

// The contract types live with the lock resource (the authorizer, a layer below, needs them).
export type { LockCheck, LockChecker, LockTarget } from '../resources/lock.ts';

/** Everything an access attempt is, as lock targets; empty values are left out. */
export function accessTargets(who: {
  user?: string;
  roles?: readonly string[];
  login?: string;
  node?: string;
  device?: string;
}): LockTarget[] {
  const out: LockTarget[] = [];
  const add = (kind: LockTargetKind, value: string | undefined) => {
    if (value) out.push({ kind, value });
  };
  add('user', who.user);
  for (const role of who.roles ?? []) add('role', role);
  add('login', who.login);
  add('node', who.node);
  add('device', who.device);
  return out;
}

/** The targets of an SSH connection: its certificate's user, roles and device, the login and the node. */
export function sshAccessTargets(cert: SshCertificate, login: string, node: string): LockTarget[] {
  let roles: string[] = [];
  try {
    const parsed: unknown = JSON.parse(cert.extensions[SSH_EXT_ROLES] ?? '[]');
    if (Array.isArray(parsed)) roles = parsed.filter((r): r is string => typeof r === 'string');
  } catch {
    // Malformed roles are refused by the authorizer; the other targets still apply.
  }
  return accessTargets({ user: cert.keyId, roles, login, node, device: sshDeviceFields(cert)?.deviceId });
}

export function lockMatches(spec: Pick<LockSpec, 'target'>, targets: readonly LockTarget[]): boolean {
  const [kind, value] = lockTarget(spec);
  return targets.some((t) => t.kind === kind && t.value === value);
}

export const UNRELIABLE_LOCK_VIEW = 'preventive lock-out due to local lock view becoming unreliable';

/** A lock as the node sees it when one comes into force: enough to find and tell its victims. */
export interface LockNotice {
  name: string;
  message: string;
  matches(targets: readonly LockTarget[]): boolean;
}

/** New locks, pushed to services that must end what is already running (the node's sessions). */
export interface LockFeed {
  subscribe(listener: (lock: LockNotice) => void): () => void;
}
