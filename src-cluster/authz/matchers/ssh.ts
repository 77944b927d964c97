// SSH: nodes selected by `node_labels`, the login (unix user) granted by `logins`. The limits
// are the role options the node enforces on the connection (max_sessions, disconnect_expired_cert).
import type { SshSessionLimits } from '../../resources/role-set.ts';
import type { KindMatcher } from './matcher.ts';

export const SSH_RESOURCE_KIND = 'node';

export interface SshAction {
  /** The unix user asked for on the node. */
  login: string;
}

export const sshMatcher: KindMatcher<SshAction, SshSessionLimits> = {
  kind: SSH_RESOURCE_KIND,
  noun: 'node',
  labelsField: 'node_labels',
  // No format check here: a login no role can grant (a template, a typo) is simply not allowed,
  // with the reason naming it, as it always was.
  principals: (action) => [{ field: 'logins', value: action.login }],
  lockTargets: (node, action) => [
    { kind: 'login', value: action.login },
    { kind: 'node', value: node.name },
  ],
  auditContext: (node, action) => ({ login: action.login, node: node.name, action: 'ssh' }),
  // The limits come from all of the user's roles, not only the granting ones: a role that caps
  // max_sessions caps every connection of the user (the stricter value wins).
  grant: ({ roleSet }) => ({ allowed: true, limits: roleSet.sshSessionLimits() }),
};
