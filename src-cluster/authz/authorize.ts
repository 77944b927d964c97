// The decision every kind of access goes through, in this order: the kind's matcher reads the
// request (a malformed one is refused with its reason); locks on the user, the roles, the device
// and the kind's targets; the user's roles (deny wins; one role must match the resource's labels
// and grant every requested principal); device trust (the cluster's mode, raised by the
// strictest granting role; for apps the granting roles alone); and last the kind's own limits.
// Anything that throws is a refusal with its message: an authorizer that cannot decide must not
// allow.
import type { DeviceFields } from '../../src-shared/cert-fields.ts';
import type { Logger } from '../log/logger.ts';
import type { LockTarget } from '../resources/lock.ts';
import { deviceTrustRequirement, isDeviceTrusted, UNAUTHORIZED_DEVICE } from './device-trust-mode.ts';
import { isAccessKind, KIND_MATCHERS, type AccessKind, type KindActions, type KindLimits } from './matchers/index.ts';
import type { AccessResource, KindMatcher } from './matchers/matcher.ts';
import { matchRoles } from './role-match.ts';
import type { ClusterDeviceTrustMode } from '../resources/device-trust-modes.ts';
import type { RoleSet } from '../resources/role-set.ts';

/** Who asks, as the certificate they presented says. */
export interface AccessIdentity {
  user: string;
  /** The roles named in the certificate (not the user's current ones: a new login picks those up). */
  roles: readonly string[];
  /** The device fields of the certificate; all three only after device authentication. */
  device?: Partial<DeviceFields>;
}

export interface AccessRequest<K extends AccessKind = AccessKind> {
  identity: AccessIdentity;
  resource: AccessResource<K>;
  action: KindActions[K];
}

/** `recorded`: the denial is already in the audit log, so the caller need not record it again. */
export type AccessDecision<L> = { allowed: true; limits: L } | { allowed: false; reason: string; recorded?: boolean };

/** What the core needs from its host (AccessChecker): role resolution, the lock check, the cluster mode. */
export interface AuthorizeDeps {
  /** The lock check with its audit record; `recorded` set on refusals. */
  checkLocks(
    targets: LockTarget[],
    context: Record<string, unknown>,
  ): Promise<{ allowed: true } | { allowed: false; reason: string; recorded?: boolean }>;
  /** The role set for the identity; throws (ACCESS_DENIED) when the user no longer exists. */
  resolveRoles(identity: AccessIdentity): Promise<{ roleSet: RoleSet; isBot: boolean }>;
  clusterDeviceTrustMode(): string | Promise<string>;
  log: Logger;
}

/** The cluster mode under which only the roles' device_trust_mode counts. */
const ROLES_ONLY_CLUSTER_MODE: ClusterDeviceTrustMode = 'optional';

/** user, every role, the kind's targets, the device — in that order; empty values left out. */
function lockTargets(identity: AccessIdentity, kindTargets: readonly LockTarget[]): LockTarget[] {
  const all: LockTarget[] = [
    { kind: 'user', value: identity.user },
    ...identity.roles.map((role): LockTarget => ({ kind: 'role', value: role })),
    ...kindTargets,
    { kind: 'device', value: identity.device?.deviceId ?? '' },
  ];
  return all.filter((t) => t.value !== '');
}

async function decide<A, L>(
  deps: AuthorizeDeps,
  matcher: KindMatcher<A, L>,
  identity: AccessIdentity,
  resource: AccessResource,
  action: A,
): Promise<AccessDecision<L>> {
  const requested = matcher.principals(action);
  const context = matcher.auditContext(resource, action);
  const locked = await deps.checkLocks(lockTargets(identity, matcher.lockTargets(resource, action)), context);
  if (!locked.allowed) return locked;

  const { roleSet, isBot } = await deps.resolveRoles(identity);
  const roles = matchRoles(roleSet, matcher, resource, requested);
  if (!roles.allowed) return roles;

  // A kind that takes device trust from its roles alone (apps) decides as if the cluster's floor
  // were "optional": the strictest granting role's mode is the requirement.
  const clusterMode = matcher.deviceTrust === 'roles' ? ROLES_ONLY_CLUSTER_MODE : await deps.clusterDeviceTrustMode();
  const requirement = deviceTrustRequirement({
    clusterMode,
    roleModes: roles.granting.map((r) => r.deviceTrustMode),
    isBot,
  });
  if (requirement.unknownMode) {
    deps.log.warn('access denied: unknown device trust mode', {
      user: identity.user,
      ...context,
      mode: requirement.unknownMode,
    });
    return {
      allowed: false,
      reason: `${UNAUTHORIZED_DEVICE}: device trust is misconfigured (${requirement.unknownMode}); ask your administrator`,
    };
  }
  if (requirement.required && !isDeviceTrusted(identity.device)) {
    deps.log.warn('access denied: trusted device required', {
      user: identity.user,
      ...context,
      cluster_mode: clusterMode,
    });
    return { allowed: false, reason: UNAUTHORIZED_DEVICE };
  }
  return matcher.grant({ roleSet, granting: roles.granting }, resource, action);
}

/** The one decision for `request`, whatever its kind; never throws. */
export async function authorize<K extends AccessKind>(
  deps: AuthorizeDeps,
  request: AccessRequest<K>,
): Promise<AccessDecision<KindLimits[K]>> {
  const kind: string = request.resource.kind;
  if (!isAccessKind(kind)) {
    return { allowed: false, reason: `access to resources of kind "${kind}" is not something this cluster grants` };
  }
  const matcher = KIND_MATCHERS[request.resource.kind] as KindMatcher<KindActions[K], KindLimits[K]>;
  try {
    return await decide(deps, matcher, request.identity, request.resource, request.action);
  } catch (e) {
    return { allowed: false, reason: (e as Error).message };
  }
}
