// Kubernetes clusters: selected by `kubernetes_labels`; the kube service impersonates the groups
// and users the granting roles list in `kubernetes_groups` / `kubernetes_users` (minus any role's
// deny). A client may narrow that to one user and some groups; asking for more is refused. Access
// without any group or user to impersonate is refused too: Kubernetes would see an anonymous
// request, which is never what a role meant.
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { byRoles } from '../../resources/role-set.ts';
import type { PrincipalField } from '../../resources/role-principals.ts';
import type { GrantContext, KindMatcher, RequestedPrincipal } from './matcher.ts';
import { requestedPrincipal } from './requested.ts';

export const KUBE_RESOURCE_KIND = 'kube_cluster';

/** Most groups one request may ask to impersonate: a bound on work and on header size. */
export const MAX_REQUESTED_KUBE_GROUPS = 64;

export interface KubeAction {
  /** Impersonate only this user (kubectl --as); absent: every granted user. */
  kubernetesUser?: string;
  /** Impersonate only these groups (kubectl --as-group); absent: every granted group. */
  kubernetesGroups?: readonly string[];
}

/** Who the kube service impersonates on the user's behalf. */
export interface KubeLimits {
  kubernetesGroups: string[];
  kubernetesUsers: string[];
}

/** The union of `field` over the granting roles, minus what any of the user's roles denies. */
function granted(context: GrantContext, field: PrincipalField): string[] {
  const denied = new Set(context.roleSet.compiled.flatMap((r) => r.deny.principals[field]));
  const out: string[] = [];
  for (const role of context.granting) {
    for (const value of role.allow.principals[field]) if (!denied.has(value) && !out.includes(value)) out.push(value);
  }
  return out;
}

export const kubeMatcher: KindMatcher<KubeAction, KubeLimits> = {
  kind: KUBE_RESOURCE_KIND,
  noun: 'Kubernetes cluster',
  labelsField: 'kubernetes_labels',
  principals(action) {
    const groups = action.kubernetesGroups ?? [];
    if (groups.length > MAX_REQUESTED_KUBE_GROUPS) {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `at most ${MAX_REQUESTED_KUBE_GROUPS} Kubernetes groups may be requested at once (got ${groups.length})`,
      );
    }
    const out: RequestedPrincipal[] = groups.map((g) => requestedPrincipal('kubernetes_groups', g));
    if (action.kubernetesUser !== undefined) out.push(requestedPrincipal('kubernetes_users', action.kubernetesUser));
    return out;
  },
  lockTargets: (cluster) => [{ kind: 'kube_cluster', value: cluster.name }],
  auditContext: (cluster, action) => ({
    kube_cluster: cluster.name,
    ...(action.kubernetesUser !== undefined ? { kubernetes_user: action.kubernetesUser } : {}),
    ...(action.kubernetesGroups !== undefined ? { kubernetes_groups: [...action.kubernetesGroups] } : {}),
    action: 'kube',
  }),
  grant(context, cluster, action) {
    const groups = action.kubernetesGroups ? [...action.kubernetesGroups] : granted(context, 'kubernetes_groups');
    const users = action.kubernetesUser !== undefined ? [action.kubernetesUser] : granted(context, 'kubernetes_users');
    if (groups.length === 0 && users.length === 0) {
      return {
        allowed: false,
        reason: `Kubernetes cluster "${cluster.name}" is allowed but no Kubernetes group or user to impersonate is granted${byRoles(context.roleSet.roleNames)}`,
      };
    }
    return { allowed: true, limits: { kubernetesGroups: groups, kubernetesUsers: users } };
  },
};
