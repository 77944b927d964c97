// GetDeviceStatus / ListMyDevices / auto-enroll over a real inventory (SQLite in memory) with a
// recording lock view; the whole path through a cluster is in integration/device-status.test.ts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HandlerContext } from '@connectrpc/connect';
import { ErrorCode, isGatehouseError } from '../../src-shared/errors.ts';
import { SqliteBackend } from '../storage/sqlite.ts';
import { DeviceInventory } from '../devicetrust/inventory.ts';
import type { LockCheck, LockTarget } from '../resources/lock.ts';
import type { ApiDeps, UserCall } from './auth-deps.ts';
import { deviceStatusCalls } from './auth-device-status-calls.ts';
import { adminAddCommand, createAutoEnrollToken } from './auto-enroll.ts';

const NOW = Date.parse('2026-12-07T10:00:00Z');
const ctx = {} as HandlerContext;

const backends: SqliteBackend[] = [];
after(async () => {
  for (const b of backends) await b.close();
});

async function world(options: { autoEnroll?: boolean; lock?: LockCheck } = {}) {
  const backend = await SqliteBackend.open({ path: ':memory:', now: () => NOW });
  backends.push(backend);
  const devices = new DeviceInventory(backend, { now: () => new Date(NOW) });
  const lockQueries: LockTarget[][] = [];
  const deps = {
    devices,
    auth: {
      settings: { clusterName: 'c1' },
      access: {
        lockInForce: (targets: LockTarget[]) => {
          lockQueries.push(targets);
          return options.lock ?? { locked: false };
        },
      },
    },
    preference: () => ({ spec: { device_trust: { mode: 'required', auto_enroll: options.autoEnroll ?? true } } }),
  } as unknown as ApiDeps;
  const calls: string[] = [];
  const who = { user: 'alice', roles: ['staff'] };
  const id: UserCall = async () => (calls.push('refusing locks'), who) as never;
  const reporting: UserCall = async () => (calls.push('reporting locks'), who) as never;
  return { devices, deps, lockQueries, calls, api: deviceStatusCalls(deps, id, reporting) };
}

const linux = (serialNumber: string) => ({ serialNumber, osType: 'linux' }) as never;

test('status of an enrolled device: credential match, enrolled time, no auto-enroll; lock view asked for caller and device', async () => {
  const w = await world();
  const d = await w.devices.add({ assetTag: 'SN-1', osType: 'linux' });
  await w.devices.update(d.metadata.name, (spec) => ({
    ...spec,
    enroll_status: 'enrolled',
    credential: { id: 'cred-1', public_key: 'AAEA', attestation_type: 'ekpub', enroll_time: '2026-12-07T09:00:00Z' },
  }));
  const status = await w.api.getDeviceStatus({ deviceData: linux('SN-1'), credentialId: 'cred-1' } as never, ctx);
  assert.deepEqual(
    [status.registered, status.enrolled, status.credentialId, status.credentialMatches, status.attestationType],
    [true, true, 'cred-1', true, 'ekpub'],
  );
  assert.equal(status.enrolledUnix, BigInt(Date.parse('2026-12-07T09:00:00Z') / 1000));
  assert.equal(status.autoEnrollAvailable, false);
  assert.equal(status.deviceTrustMode, 'required');
  assert.deepEqual(w.calls, ['reporting locks']);
  assert.deepEqual(w.lockQueries, [
    [
      { kind: 'user', value: 'alice' },
      { kind: 'role', value: 'staff' },
      { kind: 'device', value: d.metadata.name },
    ],
  ]);
  // Another credential or none does not match, and a record from before enroll_time was kept says 0.
  await w.devices.update(d.metadata.name, (spec) => ({
    ...spec,
    credential: { id: 'cred-2', public_key: 'AAEA', attestation_type: 'ekpub' },
  }));
  for (const credentialId of ['cred-1', '']) {
    const old = await w.api.getDeviceStatus({ deviceData: linux('SN-1'), credentialId } as never, ctx);
    assert.deepEqual([old.credentialMatches, old.enrolledUnix], [false, 0n], credentialId);
  }
});

test("a lock shows the admin's message when it has one, else the full lock text", async () => {
  const withMessage = await world({
    lock: {
      locked: true,
      message: 'lock targeting User:"alice" is in force: call us',
      lockMessage: 'call us',
      target: 'User:alice',
    },
  });
  let s = await withMessage.api.getDeviceStatus({ deviceData: linux('NOPE') } as never, ctx);
  assert.deepEqual([s.registered, s.lockMessage, s.lockTarget], [false, 'call us', 'User:alice']);
  const bare = await world({
    lock: { locked: true, message: 'lock targeting Role:"staff" is in force', target: 'Role:staff' },
  });
  s = await bare.api.getDeviceStatus({ deviceData: linux('NOPE') } as never, ctx);
  assert.deepEqual([s.lockMessage, s.lockTarget], ['lock targeting Role:"staff" is in force', 'Role:staff']);
});

test("my devices: the caller's own only, sorted, last seen from the newest collected data; locks refuse", async () => {
  const w = await world();
  const mine = await w.devices.add({ assetTag: 'SN-B', osType: 'linux', owner: 'alice' });
  await w.devices.add({ assetTag: 'SN-A', osType: 'macos', owner: 'alice' });
  await w.devices.add({ assetTag: 'SN-C', osType: 'linux', owner: 'bob' });
  await w.devices.add({ assetTag: 'SN-D', osType: 'linux' });
  for (const t of ['2026-12-01T00:00:00Z', '2026-12-05T00:00:00Z', '2026-12-03T00:00:00Z']) {
    await w.devices.recordCollectedData(mine.metadata.name, {
      collect_time: t,
      os_type: 'linux',
      serial_number: 'SN-B',
    });
  }
  const { devices } = await w.api.listMyDevices({} as never, ctx);
  assert.deepEqual(
    (devices ?? []).map((d) => [d.assetTag, d.osType, d.enrolled, d.lastSeenUnix]),
    [
      ['SN-A', 'macos', false, 0n],
      ['SN-B', 'linux', false, BigInt(Date.parse('2026-12-05T00:00:00Z') / 1000)],
    ],
  );
  assert.deepEqual(w.calls, ['refusing locks']);
});

test('auto-enroll: off, not registered, already enrolled each refused with its reason; else a token for that device', async () => {
  const reasonOf = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail('should be refused'),
      (e: unknown) => (isGatehouseError(e) ? [e.code, e.details?.['reason']] : e),
    );
  const off = await world({ autoEnroll: false });
  await off.devices.add({ assetTag: 'SN-1', osType: 'linux' });
  const req = { deviceData: linux('SN-1'), deviceId: '', assetTag: '' };
  assert.deepEqual(await reasonOf(createAutoEnrollToken(off.deps, req)), [ErrorCode.ACCESS_DENIED, 'auto_enroll_off']);

  const on = await world();
  assert.deepEqual(await reasonOf(createAutoEnrollToken(on.deps, req)), [ErrorCode.ACCESS_DENIED, 'not_registered']);
  const d = await on.devices.add({ assetTag: 'SN-1', osType: 'linux' });
  // Another OS's device with the same serial is not this one.
  await on.devices.add({ assetTag: 'SN-1', osType: 'windows' });
  const token = await createAutoEnrollToken(on.deps, req);
  assert.equal(token.deviceId, d.metadata.name);
  assert.equal(await on.devices.spendEnrollToken(token.token), d.metadata.name);
  await on.devices.update(d.metadata.name, (spec) => ({
    ...spec,
    enroll_status: 'enrolled',
    credential: { id: 'c', public_key: 'AAEA', attestation_type: 'ekpub' },
  }));
  assert.deepEqual(await reasonOf(createAutoEnrollToken(on.deps, req)), [ErrorCode.ACCESS_DENIED, 'already_enrolled']);
  assert.deepEqual(await reasonOf(createAutoEnrollToken(on.deps, { ...req, deviceData: undefined })), [
    ErrorCode.BAD_REQUEST,
    undefined,
  ]);
});

test('the admin command quotes an asset tag only when a shell would split it', () => {
  assert.equal(adminAddCommand('PF3ABC12', 'linux'), 'gatectl devices add --asset-tag PF3ABC12 --os linux --enroll');
  assert.equal(
    adminAddCommand("Bob's laptop", 'linux'),
    `gatectl devices add --asset-tag 'Bob'\\''s laptop' --os linux --enroll`,
  );
});
