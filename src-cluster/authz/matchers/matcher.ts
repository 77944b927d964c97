// What one kind of resource contributes to the authorizer: how its resources are selected in a
// role (the label field), which principals a request asks for (login, db user, ...), which lock
// targets it adds, and what the granting roles yield (session limits, impersonation lists).
// Locks, role resolution, deny-wins and device trust are the shared core's (../authorize.ts),
// so a matcher never decides those and every kind gets them the same way.
import type { LockTarget } from '../../resources/lock.ts';
import type { LabelField, PrincipalField } from '../../resources/role-principals.ts';
import type { CompiledRole, RoleSet } from '../../resources/role-set.ts';

/** A resource as the authorizer sees it: what its service knows about itself. */
export interface AccessResource<K extends string = string> {
  kind: K;
  name: string;
  labels: Readonly<Record<string, string>>;
}

/** One principal a request asks for, e.g. `{ field: 'logins', value: 'root' }`. */
export interface RequestedPrincipal {
  field: PrincipalField;
  value: string;
}

/** The roles that passed deny and grant the request: what the kind derives its limits from. */
export interface GrantContext {
  roleSet: RoleSet;
  /** Roles whose allow section matches the resource's labels and grants every requested principal. */
  granting: readonly CompiledRole[];
}

/** A kind's last word after the roles granted access: its limits, or why it still refuses. */
export type Grant<Limits> = { allowed: true; limits: Limits } | { allowed: false; reason: string };

export interface KindMatcher<Action, Limits> {
  /** `resource.kind` this matcher decides ("node", "db", ...). */
  readonly kind: string;
  /** How reasons name one resource of the kind ("node", "database"). */
  readonly noun: string;
  /** The role field that selects resources of this kind. */
  readonly labelsField: LabelField;
  /**
   * "roles": only the granting roles' device_trust_mode decides, the cluster's device_trust.mode
   * does not apply (apps: REFERENCE.md "apps only through roles"). Default "cluster-and-roles".
   */
  readonly deviceTrust?: 'cluster-and-roles' | 'roles';
  /**
   * The principals the action asks for; each must be granted by the same role that matches the
   * resource. Throws GatehouseError (BAD_REQUEST) when the action is malformed.
   */
  principals(action: Action): RequestedPrincipal[];
  /** Lock targets beyond the identity's (user, roles, device): the resource and principals. */
  lockTargets(resource: AccessResource, action: Action): LockTarget[];
  /** Fields that name the attempt in logs and audit events. */
  auditContext(resource: AccessResource, action: Action): Record<string, unknown>;
  /** Limits from the granting roles (or a refusal the kind alone can see). */
  grant(context: GrantContext, resource: AccessResource, action: Action): Grant<Limits>;
}
