// Kind "app" through the one authorizer: the seed's require-trusted-device-apps role verbatim,
// deny wins, locks in their own words, and the cluster-wide device trust mode NOT applying.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteBackend } from '../storage/sqlite.ts';
import { ResourceStore } from '../storage/resources.ts';
import { createMemoryLogger } from '../log/logger.ts';
import { createDefaultRegistry } from '../resources/kinds.ts';
import { parseResources } from '../resources/parse.ts';
import type { RoleResource, RoleSpec } from '../resources/role.ts';
import type { UserResource } from '../resources/user.ts';
import type { LockChecker, LockTarget } from '../resources/lock.ts';
import { AccessChecker } from './access.ts';
import { appAccessDenial } from './app-access.ts';
import type { AccessIdentity } from './authorize.ts';

const DEVICE = { deviceId: 'dev-1', assetTag: 'SN-1', credentialId: 'cred-1' };
const GRAFANA = { name: 'grafana', labels: { env: 'prod', team: 'obs' } };
const WIKI = { name: 'wiki', labels: { env: 'dev' } };

// docs/app-access.md, verbatim from the seed.
const SEED_ROLE = `kind: role
version: v7
metadata: {name: require-trusted-device-apps}
spec:
  options: {device_trust_mode: required}
  allow:
    app_labels: {'*': '*'}
`;

async function setup(
  t: { after: (fn: () => Promise<void>) => void },
  opts: { clusterMode?: string; locked?: LockTarget; isBot?: boolean } = {},
) {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  t.after(() => backend.close());
  const roles = new ResourceStore<RoleSpec>(backend, { kind: 'role' });
  const users = new ResourceStore<UserResource['spec']>(backend, { kind: 'user' });
  const [seed] = parseResources(SEED_ROLE, createDefaultRegistry()) as [RoleResource];
  await roles.create(seed);
  const role = (name: string, spec: RoleSpec) =>
    roles.create({ kind: 'role', version: 'v7', metadata: { name }, spec });
  await role('obs-apps', { allow: { app_labels: { team: 'obs' } } });
  await role('no-prod', { deny: { app_labels: { env: 'prod' } } });
  await role('nodes', { allow: { logins: ['alice'], node_labels: { '*': '*' } } });
  await users.create({
    kind: 'user',
    version: 'v2',
    metadata: { name: 'alice' },
    spec: { roles: [], ...(opts.isBot ? { is_bot: true } : {}) },
  });
  const locks: LockChecker = {
    check: (targets) =>
      opts.locked && targets.some((x) => x.kind === opts.locked!.kind && x.value === opts.locked!.value)
        ? { locked: true, message: `lock targeting User:"alice" is in force: incident 42`, lockName: 'l1' }
        : { locked: false },
  };
  return new AccessChecker(users, roles, createMemoryLogger(), {
    locks,
    clusterDeviceTrustMode: () => opts.clusterMode ?? 'optional',
  });
}

const alice = (roles: string[], device?: typeof DEVICE): AccessIdentity => ({
  user: 'alice',
  roles,
  ...(device ? { device } : {}),
});

test("the seed's role: an untrusted device is refused in the app's words, a trusted one allowed", async (t) => {
  const access = await setup(t);
  assert.deepEqual(await access.authorizeApp(alice(['require-trusted-device-apps']), GRAFANA), {
    allowed: false,
    code: 'DEVICE_UNTRUSTED',
    message: 'access to this app requires a trusted device',
    reason: 'unauthorized device',
  });
  assert.deepEqual(await access.authorizeApp(alice(['require-trusted-device-apps'], DEVICE), GRAFANA), {
    allowed: true,
  });
  // Half the device fields is not a trusted device.
  const partial = { user: 'alice', roles: ['require-trusted-device-apps'], device: { deviceId: 'dev-1' } };
  assert.equal((await access.authorizeApp(partial, WIKI)).allowed, false);
});

test('a role requiring trust counts only for the apps it allows: another granting role does not need it', async (t) => {
  const access = await setup(t);
  // Both roles allow grafana: the strictest (required) wins.
  const both = await access.authorizeApp(alice(['obs-apps', 'require-trusted-device-apps']), GRAFANA);
  assert.equal(both.allowed ? '' : both.code, 'DEVICE_UNTRUSTED');
  // Only obs-apps allows grafana here: no device needed.
  assert.deepEqual(await access.authorizeApp(alice(['obs-apps']), GRAFANA), { allowed: true });
});

test('app_labels: deny wins, no allowing role is refused as "access to app denied"', async (t) => {
  const access = await setup(t);
  assert.deepEqual(await access.authorizeApp(alice(['require-trusted-device-apps', 'no-prod'], DEVICE), GRAFANA), {
    allowed: false,
    code: 'ACCESS_DENIED',
    message: 'access to app denied: app "grafana" is denied by role no-prod',
    reason: 'access to app "grafana" is denied by role no-prod',
  });
  assert.deepEqual(await access.authorizeApp(alice(['require-trusted-device-apps', 'no-prod'], DEVICE), WIKI), {
    allowed: true,
  });
  const none = await access.authorizeApp(alice(['obs-apps', 'nodes']), WIKI);
  assert.equal(
    none.allowed ? '' : none.message,
    `access to app denied: app "wiki" is not allowed by roles obs-apps, nodes: no role's app_labels match the app's labels`,
  );
});

test("the cluster's device trust mode does not apply to apps, in either direction", async (t) => {
  for (const clusterMode of ['required', 'required-for-humans', 'optional', 'off']) {
    const access = await setup(t, { clusterMode });
    assert.deepEqual(await access.authorizeApp(alice(['obs-apps']), GRAFANA), { allowed: true }, clusterMode);
    const seed = await access.authorizeApp(alice(['require-trusted-device-apps']), GRAFANA);
    assert.equal(seed.allowed ? '' : seed.code, 'DEVICE_UNTRUSTED', clusterMode);
  }
  // A role that requires a trusted device requires it of bots too (as for SSH and databases).
  const bot = await setup(t, { clusterMode: 'required-for-humans', isBot: true });
  assert.equal((await bot.authorizeApp(alice(['require-trusted-device-apps']), GRAFANA)).allowed, false);
  assert.equal((await bot.authorizeApp(alice(['obs-apps']), GRAFANA)).allowed, true);
});

test('locks come first and show their own text; the app is a lock target', async (t) => {
  for (const locked of [
    { kind: 'user', value: 'alice' },
    { kind: 'app', value: 'grafana' },
    { kind: 'device', value: 'dev-1' },
  ] as LockTarget[]) {
    const access = await setup(t, { locked });
    assert.deepEqual(await access.authorizeApp(alice(['require-trusted-device-apps'], DEVICE), GRAFANA), {
      allowed: false,
      code: 'ACCESS_DENIED',
      message: 'lock targeting User:"alice" is in force: incident 42',
      reason: 'lock targeting User:"alice" is in force: incident 42',
      recorded: true,
    });
  }
});

test('a misconfigured mode keeps its detail after the exact words', () => {
  assert.deepEqual(appAccessDenial({ reason: 'unauthorized device: device trust is misconfigured (x)' }), {
    allowed: false,
    code: 'DEVICE_UNTRUSTED',
    message: 'access to this app requires a trusted device: device trust is misconfigured (x)',
    reason: 'unauthorized device: device trust is misconfigured (x)',
  });
});
