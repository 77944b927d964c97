import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRole, presetRoles, type RoleResource } from '../../resources/role.ts';
import { RoleSet, type NodeInfo } from '../../resources/role-set.ts';
import type { PrincipalTraits } from '../../resources/role-principals.ts';
import { matchRoles } from '../role-match.ts';
import { sshMatcher } from './ssh.ts';

type Decision = { allowed: true } | { allowed: false; reason: string };

const [access, editor] = presetRoles() as [RoleResource, RoleResource];
const dev = newRole('dev', {
  allow: {
    logins: ['ubuntu', '{{internal.logins}}'],
    node_labels: { env: ['dev', 'staging-*'] },
    rules: [{ resources: ['user'], verbs: ['list', 'read'] }],
  },
  options: { max_session_ttl: '8h' },
});
const noRoot = newRole('no-root', { deny: { logins: ['root'] } });
const noProd = newRole('no-prod', { deny: { node_labels: { env: 'prod*' } }, options: { max_session_ttl: '30m' } });
const rootOnDb = newRole('db-admin', { allow: { logins: ['root', 'postgres'], node_labels: { team: 'db' } } });

const web1 = { name: 'web1', labels: { env: 'prod', team: 'web' } };
const db1 = { name: 'db1', labels: { env: 'staging-eu', team: 'db' } };
const box = { name: 'box', labels: {} };
const traits = { logins: ['alice', 'root'] };

const allowed: Decision = { allowed: true };
const denied = (reason: string): Decision => ({ allowed: false, reason });

/** The role part of an SSH decision (what RoleSet.checkNodeAccess answered before the kinds). */
function checkNode(
  roles: RoleResource[],
  node: NodeInfo,
  login: string,
  userTraits: PrincipalTraits = traits,
): Decision {
  const set = new RoleSet(roles, userTraits);
  const d = matchRoles(set, sshMatcher, { kind: 'node', ...node }, sshMatcher.principals({ login }));
  return d.allowed ? allowed : denied(d.reason);
}

test('the SSH role check: the node access table (deny wins, one role grants labels and login)', () => {
  const cases: Array<[string, RoleResource[], NodeInfo, string, Decision]> = [
    ['access: own login on any node', [access], web1, 'alice', allowed],
    ['access: login from traits', [access], box, 'root', allowed],
    [
      'access: login not in traits',
      [access],
      web1,
      'bob',
      denied('login "bob" is not allowed on node "web1" by role access'),
    ],
    ['dev: glob value in list matches', [dev], db1, 'ubuntu', allowed],
    [
      'dev: node outside its labels',
      [dev],
      web1,
      'ubuntu',
      denied(`node "web1" is not allowed by role dev: no role's node_labels match the node's labels`),
    ],
    [
      'two roles named in the reason',
      [access, dev],
      web1,
      'ubuntu',
      denied('login "ubuntu" is not allowed on node "web1" by roles access, dev'),
    ],
    [
      'role without node_labels grants no nodes',
      [editor],
      web1,
      'alice',
      denied(`node "web1" is not allowed by role editor: no role's node_labels match the node's labels`),
    ],
    ['deny login wins over allow', [access, noRoot], box, 'root', denied('login "root" is denied by role no-root')],
    [
      'deny login applies on every node',
      [rootOnDb, noRoot],
      db1,
      'root',
      denied('login "root" is denied by role no-root'),
    ],
    ['deny login leaves other logins', [rootOnDb, noRoot], db1, 'postgres', allowed],
    [
      'deny labels deny the whole node',
      [access, noProd],
      web1,
      'alice',
      denied('access to node "web1" is denied by role no-prod'),
    ],
    ['deny labels leave other nodes', [access, noProd], db1, 'alice', allowed],
    [
      'deny labels checked before deny logins',
      [access, noProd, noRoot],
      web1,
      'root',
      denied('access to node "web1" is denied by role no-prod'),
    ],
    [
      'allow from one role, login from another does not combine',
      [rootOnDb, dev],
      web1,
      'root',
      denied(`node "web1" is not allowed by roles db-admin, dev: no role's node_labels match the node's labels`),
    ],
    [
      'login must come from a role that matches the node',
      [rootOnDb, dev],
      { name: 'db2', labels: { env: 'dev', team: 'web' } },
      'postgres',
      denied('login "postgres" is not allowed on node "db2" by roles db-admin, dev'),
    ],
    ['no roles', [], web1, 'alice', denied('login "alice" is not allowed on node "web1": the user has no roles')],
  ];
  for (const [name, roles, node, login, expected] of cases) {
    assert.deepEqual(checkNode(roles, node, login), expected, name);
  }
});

test('a template is never a login: only its expansion is granted', () => {
  assert.equal(checkNode([access], web1, '{{internal.logins}}', {}).allowed, false);
  assert.equal(checkNode([access], web1, 'alice', {}).allowed, false);
});

test('the SSH matcher offers the login and the node as lock targets and names them for the audit log', () => {
  assert.deepEqual(sshMatcher.lockTargets({ kind: 'node', ...web1 }, { login: 'root' }), [
    { kind: 'login', value: 'root' },
    { kind: 'node', value: 'web1' },
  ]);
  assert.deepEqual(sshMatcher.auditContext({ kind: 'node', ...web1 }, { login: 'root' }), {
    login: 'root',
    node: 'web1',
    action: 'ssh',
  });
});

test("SSH limits come from all of the user's roles: the lowest max_sessions wins", () => {
  const capped = newRole('capped', { options: { max_sessions: 2 } });
  const set = new RoleSet([access, capped], traits);
  const granting = set.compiled.filter((r) => r.name === 'access');
  assert.deepEqual(sshMatcher.grant({ roleSet: set, granting }, { kind: 'node', ...web1 }, { login: 'alice' }), {
    allowed: true,
    limits: { maxSessions: 2, maxSessionsRoles: ['capped'], disconnectExpiredCert: false },
  });
});
