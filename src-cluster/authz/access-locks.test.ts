// The authorizer's lock check: every target of an SSH access is offered to the lock view, a lock
// refuses before the role check, and issuance gets ACCESS_DENIED with the same text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SqliteBackend } from '../storage/sqlite.ts';
import { ResourceStore } from '../storage/resources.ts';
import { createMemoryLogger } from '../log/logger.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import {
  SSH_EXT_DEVICE_ASSET_TAG,
  SSH_EXT_DEVICE_CREDENTIAL_ID,
  SSH_EXT_DEVICE_ID,
  SSH_EXT_ROLES,
} from '../../src-shared/cert-fields.ts';
import { parseCertificate, publicKeyToWire, signCertificate } from '../../src-shared/sshcert/index.ts';
import type { RoleSpec } from '../resources/role.ts';
import type { UserResource } from '../resources/user.ts';
import type { AuditEventInput } from '../audit/audit-events.ts';
import { accessTargets, UNRELIABLE_LOCK_VIEW, type LockChecker, type LockTarget } from '../locks/lock-targets.ts';
import { AccessChecker } from './access.ts';

const NODE = { name: 'web1', labels: { env: 'prod' } };
const ca = generateKeyPairSync('ed25519').privateKey;

function cert(user: string, roles: string[]) {
  const now = BigInt(Math.floor(Date.now() / 1000));
  return parseCertificate(
    signCertificate({
      publicKey: publicKeyToWire(generateKeyPairSync('ed25519').publicKey),
      type: 'user',
      keyId: user,
      principals: ['root'],
      validAfter: now - 60n,
      validBefore: now + 3600n,
      extensions: {
        [SSH_EXT_ROLES]: JSON.stringify(roles),
        [SSH_EXT_DEVICE_ID]: 'dev-1',
        [SSH_EXT_DEVICE_ASSET_TAG]: 'SN-1',
        [SSH_EXT_DEVICE_CREDENTIAL_ID]: 'cred-1',
      },
      caPrivateKey: ca,
    }),
  );
}

/** A lock view that refuses one target and records what it was asked. */
function fakeLocks(locked: LockTarget | 'unreliable' | undefined) {
  const asked: LockTarget[][] = [];
  const checker: LockChecker = {
    check(targets) {
      asked.push([...targets]);
      if (locked === 'unreliable') return { locked: true, message: UNRELIABLE_LOCK_VIEW };
      if (locked && targets.some((t) => t.kind === locked.kind && t.value === locked.value)) {
        return { locked: true, message: `lock targeting X:"${locked.value}" is in force`, lockName: 'l1' };
      }
      return { locked: false };
    },
  };
  return { checker, asked };
}

async function setup(t: { after: (fn: () => Promise<void>) => void }, locks: LockChecker) {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  t.after(() => backend.close());
  const roles = new ResourceStore<RoleSpec>(backend, { kind: 'role' });
  const users = new ResourceStore<UserResource['spec']>(backend, { kind: 'user' });
  await roles.create({
    kind: 'role',
    version: 'v7',
    metadata: { name: 'dev' },
    spec: { allow: { logins: ['root'], node_labels: { '*': '*' } } } as RoleSpec,
  });
  await users.create({ kind: 'user', version: 'v2', metadata: { name: 'alice' }, spec: { roles: ['dev'] } as never });
  const events: AuditEventInput[] = [];
  const access = new AccessChecker(users, roles, createMemoryLogger(), {
    locks,
    audit: { emit: async (e) => void events.push(e) },
  });
  return { access, events };
}

test('SSH offers user, every role, login, node and device to the lock view', async (t) => {
  const { checker, asked } = fakeLocks(undefined);
  const { access } = await setup(t, checker);
  assert.deepEqual(await access.authorizeSsh(cert('alice', ['dev', 'ops']), 'root', NODE), {
    allowed: true,
    limits: { maxSessions: 10, maxSessionsRoles: [], disconnectExpiredCert: false },
  });
  assert.deepEqual(
    asked[0],
    accessTargets({ user: 'alice', roles: ['dev', 'ops'], login: 'root', node: 'web1', device: 'dev-1' }),
  );
});

for (const target of accessTargets({ user: 'alice', roles: ['dev'], login: 'root', node: 'web1', device: 'dev-1' })) {
  test(`a lock on the ${target.kind} refuses SSH with its message and records access.denied`, async (t) => {
    const { checker } = fakeLocks(target);
    const { access, events } = await setup(t, checker);
    assert.deepEqual(await access.authorizeSsh(cert('alice', ['dev']), 'root', NODE), {
      allowed: false,
      reason: `lock targeting X:"${target.value}" is in force`,
      recorded: true, // the node must not record the denial a second time
    });
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'access.denied');
    assert.equal(events[0]!.user, 'alice');
    assert.equal(events[0]!.fields?.['lock'], 'l1');
  });
}

test('a lock refuses even a user whose roles would not allow the node (locks come first)', async (t) => {
  const { checker } = fakeLocks({ kind: 'user', value: 'ghost' });
  const { access } = await setup(t, checker);
  const d = await access.authorizeSsh(cert('ghost', []), 'root', NODE);
  assert.deepEqual(d, { allowed: false, reason: 'lock targeting X:"ghost" is in force', recorded: true });
});

test('an unreliable view under strict refuses with the preventive lock-out', async (t) => {
  const { checker } = fakeLocks('unreliable');
  const { access } = await setup(t, checker);
  assert.deepEqual(await access.authorizeSsh(cert('alice', ['dev']), 'root', NODE), {
    allowed: false,
    reason: UNRELIABLE_LOCK_VIEW,
    recorded: true,
  });
});

test('requireNoLock throws ACCESS_DENIED with the lock message', async (t) => {
  const { checker } = fakeLocks({ kind: 'role', value: 'dev' });
  const { access } = await setup(t, checker);
  await assert.rejects(
    access.requireNoLock(accessTargets({ user: 'alice', roles: ['dev'] })),
    (e: unknown) =>
      e instanceof GatehouseError &&
      e.code === ErrorCode.ACCESS_DENIED &&
      e.message === 'lock targeting X:"dev" is in force',
  );
  await access.requireNoLock(accessTargets({ user: 'bob', roles: ['ops'] }));
});
