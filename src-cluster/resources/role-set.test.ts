import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { newRole, presetRoles, type RoleResource } from './role.ts';
import { RoleSet, roleSetForUser, type AccessDecision } from './role-set.ts';
import { newUser } from './user.ts';

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
const readonly = newRole('readonly', {
  deny: { rules: [{ resources: ['*'], verbs: ['create', 'update', 'delete'] }] },
});

const web1 = { name: 'web1', labels: { env: 'prod', team: 'web' } };
const db1 = { name: 'db1', labels: { env: 'staging-eu', team: 'db' } };
const box = { name: 'box', labels: {} };
const traits = { logins: ['alice', 'root'] };

const allowed: AccessDecision = { allowed: true };
const denied = (reason: string): AccessDecision => ({ allowed: false, reason });

test('templates expand to the user traits, and only well-formed ones', () => {
  assert.deepEqual(new RoleSet([access], { logins: ['alice', 'bad login', '-x'] }).allowedLogins(), ['alice']);
  assert.deepEqual(new RoleSet([access], {}).allowedLogins(), []);
});

test('allowedLogins is the union of allow minus deny, without duplicates', () => {
  assert.deepEqual(new RoleSet([access, dev, rootOnDb], traits).allowedLogins(), [
    'alice',
    'root',
    'ubuntu',
    'postgres',
  ]);
  assert.deepEqual(new RoleSet([access, dev, rootOnDb, noRoot], traits).allowedLogins(), [
    'alice',
    'ubuntu',
    'postgres',
  ]);
  assert.deepEqual(new RoleSet([editor], traits).allowedLogins(), []);
});

test('canSeeNode and loginsForNode follow labels and deny', () => {
  const set = new RoleSet([dev, rootOnDb, noRoot], traits);
  assert.equal(set.canSeeNode(db1), true);
  assert.equal(set.canSeeNode(web1), false);
  assert.deepEqual(set.loginsForNode(db1), ['ubuntu', 'alice', 'postgres']);
  assert.deepEqual(set.loginsForNode(web1), []);
  const withDeny = new RoleSet([access, noProd], traits);
  assert.equal(withDeny.canSeeNode(web1), false);
  assert.equal(withDeny.canSeeNode(box), true);
  assert.equal(new RoleSet([editor], traits).canSeeNode(box), false);
});

test('maxSessionTtlMs takes the strictest role, or the default', () => {
  assert.equal(new RoleSet([access], traits).maxSessionTtlMs(12 * 3_600_000), 12 * 3_600_000);
  assert.equal(new RoleSet([access, dev], traits).maxSessionTtlMs(12 * 3_600_000), 8 * 3_600_000);
  assert.equal(new RoleSet([dev, noProd], traits).maxSessionTtlMs(12 * 3_600_000), 30 * 60_000);
});

test('checkResourceAccess table', () => {
  const cases: Array<[RoleResource[], string, 'list' | 'read' | 'create' | 'update' | 'delete', AccessDecision]> = [
    [[editor], 'role', 'delete', allowed],
    [[editor], 'device', 'create', allowed],
    [[dev], 'user', 'read', allowed],
    [[dev], 'user', 'update', denied('verb "update" on kind "user" is not allowed by role dev')],
    [[dev], 'role', 'list', denied('verb "list" on kind "role" is not allowed by role dev')],
    [[access, dev], 'role', 'list', denied('verb "list" on kind "role" is not allowed by roles access, dev')],
    [[editor, readonly], 'role', 'delete', denied('verb "delete" on kind "role" is denied by role readonly')],
    [[editor, readonly], 'role', 'read', allowed],
    [[], 'role', 'read', denied('verb "read" on kind "role" is not allowed: the user has no roles')],
  ];
  for (const [roles, kind, verb, expected] of cases) {
    assert.deepEqual(
      new RoleSet(roles, traits).checkResourceAccess(kind, verb),
      expected,
      `${roles.map((r) => r.metadata.name).join('+')} ${verb} ${kind}`,
    );
  }
});

test('duplicate roles count once', () => {
  assert.deepEqual(new RoleSet([dev, dev], traits).roleNames, ['dev']);
});

test('roleSetForUser resolves the roles the user names and refuses missing ones', () => {
  const alice = newUser({ name: 'alice', roles: ['access', 'no-root'], logins: ['alice', 'root'] });
  const set = roleSetForUser(alice, [access, editor, noRoot]);
  assert.deepEqual(set.roleNames, ['access', 'no-root']);
  assert.deepEqual(set.allowedLogins(), ['alice']);
  const ghost = newUser({ name: 'bob', roles: ['access', 'ghost'] });
  assert.throws(
    () => roleSetForUser(ghost, [access]),
    (e: unknown) =>
      e instanceof GatehouseError &&
      e.code === ErrorCode.NOT_FOUND &&
      e.message === 'user "bob" has role "ghost", which does not exist',
  );
});

test('sshSessionLimits: the lowest max_sessions wins and names its roles; any role turns on disconnect_expired_cert', () => {
  assert.deepEqual(new RoleSet([access], traits).sshSessionLimits(), {
    maxSessions: 10,
    maxSessionsRoles: [],
    disconnectExpiredCert: false,
  });
  const two = newRole('two', { options: { max_sessions: 2 } });
  const five = newRole('five', { options: { max_sessions: 5, disconnect_expired_cert: true } });
  const alsoTwo = newRole('also-two', { options: { max_sessions: 2, disconnect_expired_cert: false } });
  assert.deepEqual(new RoleSet([five, two, alsoTwo], traits).sshSessionLimits(), {
    maxSessions: 2,
    maxSessionsRoles: ['two', 'also-two'],
    disconnectExpiredCert: true,
  });
  // A role may allow more than the default, too.
  const many = newRole('many', { options: { max_sessions: 50 } });
  assert.equal(new RoleSet([access, many], traits).sshSessionLimits().maxSessions, 50);
});

test('sshCertPermits: permit-pty always; forwarding only when a role grants it; never X11 or user rc', () => {
  assert.deepEqual(new RoleSet([access, dev], traits).sshCertPermits(), { 'permit-pty': '' });
  const ports = newRole('ports', { options: { port_forwarding: true } });
  const agent = newRole('agent', { options: { forward_agent: true, port_forwarding: false } });
  assert.deepEqual(new RoleSet([access, ports], traits).sshCertPermits(), {
    'permit-pty': '',
    'permit-port-forwarding': '',
  });
  assert.deepEqual(new RoleSet([agent], traits).sshCertPermits(), {
    'permit-pty': '',
    'permit-agent-forwarding': '',
  });
  assert.deepEqual(Object.keys(new RoleSet([ports, agent], traits).sshCertPermits()).sort(), [
    'permit-agent-forwarding',
    'permit-port-forwarding',
    'permit-pty',
  ]);
});
