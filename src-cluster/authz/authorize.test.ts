// The shared core for the kinds that have no service yet: locks, roles and device trust must hold
// for a database, an app or a Kubernetes cluster exactly as they do for SSH.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteBackend } from '../storage/sqlite.ts';
import { ResourceStore } from '../storage/resources.ts';
import { createMemoryLogger } from '../log/logger.ts';
import type { RoleSpec } from '../resources/role.ts';
import type { UserResource } from '../resources/user.ts';
import type { LockChecker, LockTarget } from '../resources/lock.ts';
import { AccessChecker, type AccessDeniedEvent } from './access.ts';
import type { AccessIdentity } from './authorize.ts';

const DEVICE = { deviceId: 'dev-1', assetTag: 'SN-1', credentialId: 'cred-1' };
const PG = { kind: 'db' as const, name: 'pg', labels: { env: 'prod' } };
const WIKI = { kind: 'app' as const, name: 'wiki', labels: { env: 'prod' } };
const K8S = { kind: 'kube_cluster' as const, name: 'k8s', labels: { env: 'prod' } };

async function setup(
  t: { after: (fn: () => Promise<void>) => void },
  opts: { clusterMode?: string; locked?: LockTarget } = {},
) {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  t.after(() => backend.close());
  const roles = new ResourceStore<RoleSpec>(backend, { kind: 'role' });
  const users = new ResourceStore<UserResource['spec']>(backend, { kind: 'user' });
  const role = (name: string, spec: RoleSpec) =>
    roles.create({ kind: 'role', version: 'v7', metadata: { name }, spec });
  await role('db', { allow: { db_labels: { '*': '*' }, db_users: ['{{internal.db_users}}'], db_names: ['*'] } });
  await role('apps', { allow: { app_labels: { env: 'prod' } } });
  await role('apps-trusted', { allow: { app_labels: { env: 'prod' } }, options: { device_trust_mode: 'required' } });
  await role('k8s', { allow: { kubernetes_labels: { '*': '*' }, kubernetes_groups: ['view'] } });
  await users.create({
    kind: 'user',
    version: 'v2',
    metadata: { name: 'alice' },
    spec: { roles: ['db', 'apps', 'k8s'], traits: { db_users: ['alice'] } },
  });
  const asked: LockTarget[][] = [];
  const locks: LockChecker = {
    check(targets) {
      asked.push([...targets]);
      const hit = opts.locked && targets.some((x) => x.kind === opts.locked!.kind && x.value === opts.locked!.value);
      return hit ? { locked: true, message: 'locked out', lockName: 'l1' } : { locked: false };
    },
  };
  const events: AccessDeniedEvent[] = [];
  const access = new AccessChecker(users, roles, createMemoryLogger(), {
    locks,
    audit: { emit: async (e) => void events.push(e) },
    clusterDeviceTrustMode: () => opts.clusterMode ?? 'optional',
  });
  return { access, asked, events };
}

const alice = (roles: string[], device?: typeof DEVICE): AccessIdentity => ({
  user: 'alice',
  roles,
  ...(device ? { device } : {}),
});

test('a database grant carries user and name; its lock targets name the database', async (t) => {
  const { access, asked } = await setup(t);
  const d = await access.authorize({ identity: alice(['db'], DEVICE), resource: PG, action: { dbUser: 'alice' } });
  assert.deepEqual(d, { allowed: true, limits: { dbUser: 'alice' } });
  assert.deepEqual(asked[0], [
    { kind: 'user', value: 'alice' },
    { kind: 'role', value: 'db' },
    { kind: 'db', value: 'pg' },
    { kind: 'device', value: 'dev-1' },
  ]);
  const other = await access.authorize({ identity: alice(['db']), resource: PG, action: { dbUser: 'postgres' } });
  assert.deepEqual(other, {
    allowed: false,
    reason: 'database user "postgres" is not allowed on database "pg" by role db',
  });
});

test('a lock on the database refuses it, is recorded once, and leaves the other kinds alone', async (t) => {
  const { access, events } = await setup(t, { locked: { kind: 'db', value: 'pg' } });
  assert.deepEqual(await access.authorize({ identity: alice(['db']), resource: PG, action: { dbUser: 'alice' } }), {
    allowed: false,
    reason: 'locked out',
    recorded: true,
  });
  assert.equal(events.length, 1);
  assert.deepEqual(events[0]!.fields, {
    reason: 'lock in force',
    lock: 'l1',
    db: 'pg',
    db_user: 'alice',
    action: 'db',
  });
  assert.equal((await access.authorize({ identity: alice(['apps']), resource: WIKI, action: {} })).allowed, true);
});

test('device trust is decided by the core for every kind: the granting role raises the mode', async (t) => {
  const { access } = await setup(t);
  const app = (roles: string[], device?: typeof DEVICE) =>
    access.authorize({ identity: alice(roles, device), resource: WIKI, action: {} });
  assert.deepEqual(await app(['apps']), { allowed: true, limits: {} });
  assert.deepEqual(await app(['apps-trusted']), { allowed: false, reason: 'unauthorized device' });
  assert.deepEqual(await app(['apps-trusted'], DEVICE), { allowed: true, limits: {} });

  const required = await setup(t, { clusterMode: 'required' });
  const kube = (device?: typeof DEVICE) =>
    required.access.authorize({ identity: alice(['k8s'], device), resource: K8S, action: {} });
  assert.deepEqual(await kube(), { allowed: false, reason: 'unauthorized device' });
  assert.deepEqual(await kube(DEVICE), {
    allowed: true,
    limits: { kubernetesGroups: ['view'], kubernetesUsers: [] },
  });
});

test('unknown kinds, malformed requests and vanished users are refused with their reason', async (t) => {
  const { access } = await setup(t);
  const unknown = await access.authorize({
    identity: alice(['db']),
    resource: { kind: 'printer' as 'app', name: 'p', labels: {} },
    action: {},
  });
  assert.deepEqual(unknown, {
    allowed: false,
    reason: 'access to resources of kind "printer" is not something this cluster grants',
  });
  const star = await access.authorize({ identity: alice(['db']), resource: PG, action: { dbUser: '*' } });
  assert.equal(star.allowed, false);
  assert.match(star.allowed ? '' : star.reason, /^database user: "\*" is not a valid database user/);
  const ghost = await access.authorize({
    identity: { user: 'ghost', roles: ['db'] },
    resource: PG,
    action: { dbUser: 'alice' },
  });
  assert.deepEqual(ghost, { allowed: false, reason: 'user "ghost" no longer exists' });
});
