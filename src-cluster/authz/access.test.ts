import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SqliteBackend } from '../storage/sqlite.ts';
import { ResourceStore } from '../storage/resources.ts';
import { createMemoryLogger } from '../log/logger.ts';
import {
  SSH_EXT_DEVICE_ASSET_TAG,
  SSH_EXT_DEVICE_CREDENTIAL_ID,
  SSH_EXT_DEVICE_ID,
  SSH_EXT_ROLES,
} from '../../src-shared/cert-fields.ts';
import { parseCertificate, publicKeyToWire, signCertificate } from '../../src-shared/sshcert/index.ts';
import type { RoleSpec } from '../resources/role.ts';
import type { UserResource } from '../resources/user.ts';
import { AccessChecker } from './access.ts';

const NODE = { name: 'web1', labels: { env: 'prod' } };
const ca = generateKeyPairSync('ed25519').privateKey;

function cert(user: string, roles: string[], device: boolean) {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const extensions: Record<string, string> = { [SSH_EXT_ROLES]: JSON.stringify(roles) };
  if (device) {
    extensions[SSH_EXT_DEVICE_ID] = 'dev-1';
    extensions[SSH_EXT_DEVICE_ASSET_TAG] = 'SN-1';
    extensions[SSH_EXT_DEVICE_CREDENTIAL_ID] = 'cred-1';
  }
  return parseCertificate(
    signCertificate({
      publicKey: publicKeyToWire(generateKeyPairSync('ed25519').publicKey),
      type: 'user',
      keyId: user,
      principals: ['root'],
      validAfter: now - 60n,
      validBefore: now + 3600n,
      extensions,
      caPrivateKey: ca,
    }),
  );
}

async function setup(t: { after: (fn: () => Promise<void>) => void }, clusterMode: string) {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  t.after(() => backend.close());
  // No validation here: these tests are about decisions, not about the role schema.
  const roles = new ResourceStore<RoleSpec>(backend, { kind: 'role' });
  const users = new ResourceStore<UserResource['spec']>(backend, { kind: 'user' });
  const role = (name: string, mode?: string) =>
    roles.create({
      kind: 'role',
      version: 'v7',
      metadata: { name },
      spec: {
        allow: { logins: ['root'], node_labels: { '*': '*' } },
        ...(mode ? { options: { device_trust_mode: mode } } : {}),
      } as RoleSpec,
    });
  await role('plain');
  await role('strict', 'required');
  await role('typo', 'requried');
  for (const [name, bot] of [
    ['alice', false],
    ['robot', true],
  ] as const) {
    await users.create({ kind: 'user', version: 'v2', metadata: { name }, spec: { roles: [], is_bot: bot } as never });
  }
  const log = createMemoryLogger();
  const access = new AccessChecker(users, roles, log, { clusterDeviceTrustMode: () => clusterMode });
  return { access, log };
}

const allowed = { allowed: true, limits: { maxSessions: 10, maxSessionsRoles: [], disconnectExpiredCert: false } };
const unauthorized = { allowed: false, reason: 'unauthorized device' };

test('optional cluster: only a granting role with required needs the device fields', async (t) => {
  const { access, log } = await setup(t, 'optional');
  assert.deepEqual(await access.authorizeSsh(cert('alice', ['plain'], false), 'root', NODE), allowed);
  assert.deepEqual(await access.authorizeSsh(cert('alice', ['plain', 'strict'], false), 'root', NODE), unauthorized);
  assert.deepEqual(await access.authorizeSsh(cert('alice', ['strict'], true), 'root', NODE), allowed);
  assert.ok(log.lines.some((l) => l.includes('trusted device required')));
});

test('required cluster: everyone needs the device; required-for-humans exempts bots', async (t) => {
  const required = await setup(t, 'required');
  assert.deepEqual(await required.access.authorizeSsh(cert('alice', ['plain'], false), 'root', NODE), unauthorized);
  assert.deepEqual(await required.access.authorizeSsh(cert('robot', ['plain'], false), 'root', NODE), unauthorized);
  assert.deepEqual(await required.access.authorizeSsh(cert('alice', ['plain'], true), 'root', NODE), allowed);

  const humans = await setup(t, 'required-for-humans');
  assert.deepEqual(await humans.access.authorizeSsh(cert('alice', ['plain'], false), 'root', NODE), unauthorized);
  assert.deepEqual(await humans.access.authorizeSsh(cert('robot', ['plain'], false), 'root', NODE), allowed);
});

test('off cluster ignores role modes; unknown modes deny and say so', async (t) => {
  const off = await setup(t, 'off');
  assert.deepEqual(await off.access.authorizeSsh(cert('alice', ['strict'], false), 'root', NODE), allowed);

  const typo = await setup(t, 'optional');
  const d = await typo.access.authorizeSsh(cert('alice', ['typo'], true), 'root', NODE);
  assert.equal(d.allowed, false);
  assert.match(
    d.allowed ? '' : d.reason,
    /^unauthorized device: device trust is misconfigured \(role mode "requried"\)/,
  );

  const badCluster = await setup(t, 'sometimes');
  const d2 = await badCluster.access.authorizeSsh(cert('alice', ['plain'], true), 'root', NODE);
  assert.match(d2.allowed ? '' : d2.reason, /cluster mode "sometimes"/);
});

test('the role check still comes first: no granting role means its own reason', async (t) => {
  const { access } = await setup(t, 'required');
  const d = await access.authorizeSsh(cert('alice', ['plain'], true), 'admin', NODE);
  assert.equal(d.allowed, false);
  assert.match(d.allowed ? '' : d.reason, /login "admin" is not allowed/);
});

test('forStoredUser decides from the user given, as forUser does from the stored one', async (t) => {
  const { access } = await setup(t, 'optional');
  const stored = (await access.findUser('alice'))!;
  const withRoles: UserResource = { ...stored, spec: { ...stored.spec, roles: ['plain', 'strict'] } };
  const given = await access.forStoredUser(withRoles);
  assert.deepEqual(given.roles, ['plain', 'strict'], 'the roles of the user given, not a fresh read');
  assert.deepEqual(given.logins, ['root']);
  const read = await access.forUser('alice');
  assert.deepEqual(read.roles, [], 'forUser reads the stored user (no roles)');
  assert.equal(given.isBot, read.isBot);
});
