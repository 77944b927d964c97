import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { newRole, type RoleResource } from '../../resources/role.ts';
import { RoleSet } from '../../resources/role-set.ts';
import type { PrincipalTraits } from '../../resources/role-principals.ts';
import { matchRoles } from '../role-match.ts';
import { appMatcher } from './app.ts';
import type { AccessResource } from './matcher.ts';
import { kubeMatcher, MAX_REQUESTED_KUBE_GROUPS, type KubeAction } from './kube.ts';

const grafana = { kind: 'app', name: 'grafana', labels: { team: 'obs', env: 'prod' } };
const wiki = { kind: 'app', name: 'wiki', labels: { team: 'docs' } };

function checkApp(roles: RoleResource[], app: AccessResource): string {
  const d = matchRoles(new RoleSet(roles, {}), appMatcher, app, appMatcher.principals({}));
  return d.allowed ? 'allowed' : d.reason;
}

test('app access: app_labels alone, globs, deny wins', () => {
  const obs = newRole('obs', { allow: { app_labels: { team: ['obs', 'sre-*'] } } });
  const noProd = newRole('no-prod-apps', { deny: { app_labels: { env: 'prod' } } });
  const nodesOnly = newRole('nodes', { allow: { logins: ['root'], node_labels: { '*': '*' } } });
  assert.equal(checkApp([obs], grafana), 'allowed');
  assert.equal(
    checkApp([obs], wiki),
    `app "wiki" is not allowed by role obs: no role's app_labels match the app's labels`,
  );
  assert.equal(checkApp([obs, noProd], grafana), 'access to app "grafana" is denied by role no-prod-apps');
  assert.equal(
    checkApp([nodesOnly], wiki),
    `app "wiki" is not allowed by role nodes: no role's app_labels match the app's labels`,
  );
  assert.equal(checkApp([], wiki), 'app "wiki" is not allowed: the user has no roles');
  assert.deepEqual(appMatcher.lockTargets(grafana, {}), [{ kind: 'app', value: 'grafana' }]);
});

const prodK8s = { kind: 'kube_cluster', name: 'prod-eu', labels: { env: 'prod' } };
const devK8s = { kind: 'kube_cluster', name: 'dev', labels: { env: 'dev' } };
const traits: PrincipalTraits = { kubernetes_groups: ['team-a'], kubernetes_users: ['alice@corp'] };
const viewer = newRole('k8s-viewer', {
  allow: { kubernetes_labels: { env: '*' }, kubernetes_groups: ['view', '{{internal.kubernetes_groups}}'] },
});
const admin = newRole('k8s-admin', {
  allow: {
    kubernetes_labels: { env: 'dev' },
    kubernetes_groups: ['system:masters'],
    kubernetes_users: ['{{internal.kubernetes_users}}'],
  },
});
const noMasters = newRole('no-masters', { deny: { kubernetes_groups: ['system:masters'] } });
const labelsOnly = newRole('labels-only', { allow: { kubernetes_labels: { '*': '*' } } });

function checkKube(roles: RoleResource[], cluster: AccessResource, action: KubeAction = {}) {
  const roleSet = new RoleSet(roles, traits);
  const d = matchRoles(roleSet, kubeMatcher, cluster, kubeMatcher.principals(action));
  if (!d.allowed) return d.reason;
  return kubeMatcher.grant({ roleSet, granting: d.granting }, cluster, action);
}

test('kube access: the granting roles name whom to impersonate, minus what any role denies', () => {
  assert.deepEqual(checkKube([viewer, admin], devK8s), {
    allowed: true,
    limits: { kubernetesGroups: ['view', 'team-a', 'system:masters'], kubernetesUsers: ['alice@corp'] },
  });
  // admin's labels do not match prod: only the viewer role grants there.
  assert.deepEqual(checkKube([viewer, admin], prodK8s), {
    allowed: true,
    limits: { kubernetesGroups: ['view', 'team-a'], kubernetesUsers: [] },
  });
  assert.deepEqual(checkKube([viewer, admin, noMasters], devK8s), {
    allowed: true,
    limits: { kubernetesGroups: ['view', 'team-a'], kubernetesUsers: ['alice@corp'] },
  });
});

test('kube access: narrowing to one user or some groups, and asking for more than granted', () => {
  // Only the roles that grant the asked-for group grant the request, so only their users come along.
  assert.deepEqual(checkKube([viewer, admin], devK8s, { kubernetesGroups: ['view'] }), {
    allowed: true,
    limits: { kubernetesGroups: ['view'], kubernetesUsers: [] },
  });
  assert.deepEqual(checkKube([viewer, admin], devK8s, { kubernetesGroups: ['system:masters'] }), {
    allowed: true,
    limits: { kubernetesGroups: ['system:masters'], kubernetesUsers: ['alice@corp'] },
  });
  assert.equal(
    checkKube([viewer], prodK8s, { kubernetesGroups: ['system:masters'] }),
    'Kubernetes group "system:masters" is not allowed on Kubernetes cluster "prod-eu" by role k8s-viewer',
  );
  assert.equal(
    checkKube([viewer, admin, noMasters], devK8s, { kubernetesGroups: ['system:masters'] }),
    'Kubernetes group "system:masters" is denied by role no-masters',
  );
  // A group from one role and a user from another do not combine.
  assert.equal(
    checkKube([viewer, admin], prodK8s, { kubernetesUser: 'alice@corp' }),
    'Kubernetes user "alice@corp" is not allowed on Kubernetes cluster "prod-eu" by roles k8s-viewer, k8s-admin',
  );
});

test('kube access with labels but nobody to impersonate is refused', () => {
  assert.equal(
    (checkKube([labelsOnly], prodK8s) as { reason: string }).reason,
    'Kubernetes cluster "prod-eu" is allowed but no Kubernetes group or user to impersonate is granted by role labels-only',
  );
});

test('kube requests: malformed subjects and too many groups are refused', () => {
  const bad = (action: KubeAction) =>
    assert.throws(
      () => kubeMatcher.principals(action),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.BAD_REQUEST,
    );
  bad({ kubernetesUser: '*' });
  bad({ kubernetesGroups: ['has space'] });
  bad({ kubernetesGroups: Array.from({ length: MAX_REQUESTED_KUBE_GROUPS + 1 }, (_, i) => `g${i}`) });
  assert.deepEqual(kubeMatcher.lockTargets(prodK8s, {}), [{ kind: 'kube_cluster', value: 'prod-eu' }]);
});
