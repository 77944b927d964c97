// GetDeviceStatus, ListMyDevices and auto-enroll (issue 15) against a real cluster process, a
// throwaway swtpm as alice's TPM and the real `gate`/`gatectl`: each status the desktop app's
// "This device" screen shows (not registered, registered, enrolled with this credential or
// another, locked), the owner filter of "My devices", every auto-enroll refusal with its reason
// and words, a real enrollment ceremony with an auto-enroll token, and the audit events.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ErrorCode, type GatehouseError } from '../../src-shared/errors.ts';
import { fromConnectError } from '../api/errors.ts';
import { TestCluster } from './harness.ts';
import { adminIdentityOf, apiClient } from './api-clients.ts';
import { startSwtpm, type Swtpm } from '../../test-support/swtpm.ts';

const LOGIN = userInfo().username;
const CREATED = /^Created a lock with name "([0-9a-f-]{36})"\.$/m;
type Api = ReturnType<typeof apiClient<typeof AuthService>>;
type Event = Record<string, unknown>;

describe('device status, my devices and auto-enroll on a real cluster', () => {
  const cluster = new TestCluster({ clusterName: 'status-it', nodeName: 'status-node' });
  let tpm: Swtpm;
  let hostCas: string[] = [];
  const clients: Api[] = [];
  let alice: Api;
  let bob: Api;
  let assetTag = '';
  let deviceId = '';

  const home = (who: string) => join(cluster.dir, `home-${who}`);
  const gateAs = (who: string, args: string[], input = '') =>
    cluster.gate(args, input, { GATEHOUSE_HOME: home(who), GATEHOUSE_TPM_TCTI: tpm.tcti });
  const ok = (r: { status: number; stderr: string; stdout: string }) => {
    assert.equal(r.status, 0, r.stderr + r.stdout);
    return r.stdout;
  };
  const login = (who: string) =>
    gateAs(
      who,
      ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', who, '--password-stdin'],
      `${who}-password-1\n`,
    );
  /** An AuthService client with `who`'s stored login certificate, as the app's main process holds it. */
  const apiAs = (who: string): Api => {
    const profiles = join(home(who), 'profiles');
    const profile = join(profiles, readdirSync(profiles)[0]!, who);
    const client = apiClient(AuthService, cluster.proxyAddr, hostCas, {
      certPem: readFileSync(join(profile, 'tls.crt'), 'utf8'),
      keyPem: readFileSync(join(profile, 'key'), 'utf8'),
    });
    clients.push(client);
    return client;
  };
  const data = (serialNumber: string, osType = 'linux') => ({ serialNumber, osType, hostname: 'it-host' });
  const refused = (call: Promise<unknown>): Promise<GatehouseError> =>
    call.then(
      () => assert.fail('the call should have been refused'),
      (e: unknown) => fromConnectError(e),
    );
  const setTrust = (spec: string) =>
    cluster.apply(
      `kind: cluster_auth_preference\nversion: v2\nmetadata: { name: cluster-auth-preference }\nspec:\n  device_trust: ${spec}\n`,
    );
  const lock = (...args: string[]) => {
    const name = CREATED.exec(ok(cluster.gatectl(['lock', ...args])))?.[1];
    assert.ok(name, 'gatectl lock printed no lock name');
    return name;
  };
  const unlock = (name: string) => ok(cluster.gatectl(['rm', `lock/${name}`]));
  const audit = (type: string): Event[] =>
    ok(cluster.gatectl(['audit', '--format', 'json', '--order', 'asc', '--limit', '5000', '--type', type]))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Event);

  before(async () => {
    tpm = await startSwtpm();
    await cluster.start();
    hostCas = adminIdentityOf(cluster.dataDir).tls_host_ca_pem;
    cluster.apply(
      `kind: role\nversion: v7\nmetadata: { name: staff }\nspec:\n  allow:\n    logins: [${LOGIN}]\n    node_labels: { '*': '*' }\n`,
    );
    for (const who of ['alice', 'bob']) {
      ok(
        cluster.gatectl(
          ['users', 'add', who, '--roles=staff', `--logins=${LOGIN}`, '--password-stdin'],
          `${who}-password-1\n`,
        ),
      );
      ok(login(who));
    }
    alice = apiAs('alice');
    bob = apiAs('bob');
    assetTag = ok(gateAs('alice', ['device', 'asset-tag'])).trim();
    assert.ok(assetTag);
  });
  after(async () => {
    for (const c of clients) c.close();
    await cluster.destroy();
    await tpm?.stop();
  });

  test('bad input is BAD_REQUEST naming the field', async () => {
    let e = await refused(alice.getDeviceStatus({}));
    assert.equal(e.code, ErrorCode.BAD_REQUEST);
    assert.match(e.message, /request field "device_data" is required/);
    e = await refused(alice.getDeviceStatus({ deviceData: data('SN-1', 'beos') }));
    assert.match(e.message, /request field "device_data\.os_type" is "beos"; expected one of linux, macos, windows/);
    e = await refused(alice.getDeviceStatus({ deviceData: data('x'.repeat(300)) }));
    assert.equal(e.code, ErrorCode.BAD_REQUEST);
    assert.match(e.message, /request field "device_data\.serial_number" is too long: 300 bytes, at most 253/);
    e = await refused(alice.createDeviceEnrollToken({ autoEnrollDeviceData: data('') }));
    assert.match(e.message, /request field "auto_enroll_device_data\.serial_number" is empty/);
    e = await refused(alice.createDeviceEnrollToken({ autoEnrollDeviceData: data('SN-1'), assetTag: 'SN-1' }));
    assert.match(e.message, /auto_enroll_device_data goes alone/);
  });

  test('not registered: nothing known, the mode shown; auto-enroll refused with the admin command', async () => {
    const status = await alice.getDeviceStatus({ deviceData: data(assetTag), credentialId: 'abc' });
    assert.deepEqual(
      [status.registered, status.deviceId, status.enrolled, status.credentialMatches, status.autoEnrollAvailable],
      [false, '', false, false, false],
    );
    assert.equal(status.deviceTrustMode, 'optional');
    assert.equal(status.lockMessage, '');

    let e = await refused(alice.createDeviceEnrollToken({ autoEnrollDeviceData: data(assetTag) }));
    assert.deepEqual([e.code, e.details], [ErrorCode.ACCESS_DENIED, { reason: 'auto_enroll_off' }]);
    assert.equal(e.message, 'auto-enroll is off in this cluster; ask your administrator for an enroll token');

    setTrust('{ mode: optional, auto_enroll: true }');
    e = await refused(alice.createDeviceEnrollToken({ autoEnrollDeviceData: data(assetTag) }));
    assert.deepEqual([e.code, e.details], [ErrorCode.ACCESS_DENIED, { reason: 'not_registered' }]);
    assert.equal(
      e.message,
      `this device (asset tag "${assetTag}", linux) is not registered in cluster "status-it"; ask your administrator ` +
        `to run: gatectl devices add --asset-tag ${assetTag} --os linux --enroll`,
    );
  });

  test('registered, not enrolled: auto-enroll offered only while the cluster allows it', async () => {
    deviceId =
      /^Device ID: (\S+)$/m.exec(
        ok(cluster.gatectl(['devices', 'add', '--asset-tag', assetTag, '--os', 'linux'])),
      )?.[1] ?? '';
    assert.ok(deviceId);
    let status = await alice.getDeviceStatus({ deviceData: data(assetTag) });
    assert.deepEqual(
      [status.registered, status.deviceId, status.assetTag, status.osType, status.enrolled, status.autoEnrollAvailable],
      [true, deviceId, assetTag, 'linux', false, true],
    );
    // The same serial on another OS is another device.
    assert.equal((await alice.getDeviceStatus({ deviceData: data(assetTag, 'windows') })).registered, false);
    setTrust('{ mode: required, auto_enroll: false }');
    status = await alice.getDeviceStatus({ deviceData: data(assetTag) });
    assert.deepEqual([status.autoEnrollAvailable, status.deviceTrustMode], [false, 'required']);
    setTrust('{ mode: optional, auto_enroll: true }');
  });

  test('auto-enroll: a token for the caller without admin rights, and a real ceremony with it', async () => {
    const started = Math.floor(Date.now() / 1000);
    const t = await alice.createDeviceEnrollToken({ autoEnrollDeviceData: data(assetTag) });
    assert.equal(t.deviceId, deviceId);
    assert.ok(t.token.length >= 20);
    // bob cannot make tokens for a named device: that stays an admin's.
    const e = await refused(bob.createDeviceEnrollToken({ assetTag }));
    assert.equal(e.code, ErrorCode.ACCESS_DENIED);

    assert.match(ok(gateAs('alice', ['device', 'enroll', '--token-stdin'], `${t.token}\n`)), /enrolled/i);
    // The credential this machine's device store recorded (what the app sends as credential_id).
    const stored = JSON.parse(readFileSync(join(home('alice'), 'device', 'enrollments.json'), 'utf8')) as {
      enrollments: { deviceId: string; credentialId: string }[];
    };
    const credentialId = stored.enrollments.find((r) => r.deviceId === deviceId)?.credentialId ?? '';
    assert.match(credentialId, /^[0-9a-f]{64}$/);
    const status = await alice.getDeviceStatus({ deviceData: data(assetTag), credentialId });
    assert.deepEqual([status.registered, status.enrolled, status.autoEnrollAvailable], [true, true, false]);
    assert.equal(status.credentialId, credentialId);
    assert.match(status.attestationType, /^(ekpub|ekcert|ekcert_trusted)$/);
    const enrolledAt = Number(status.enrolledUnix);
    assert.ok(enrolledAt >= started - 1 && enrolledAt <= Date.now() / 1000 + 1, `enrolled_unix ${enrolledAt}`);

    // This credential, or another one: the app tells "enrolled from here" from "enrolled elsewhere".
    const mine = await alice.getDeviceStatus({ deviceData: data(assetTag), credentialId: status.credentialId });
    assert.equal(mine.credentialMatches, true);
    const other = await bob.getDeviceStatus({ deviceData: data(assetTag), credentialId: 'f'.repeat(64) });
    assert.deepEqual([other.enrolled, other.credentialMatches], [true, false]);
    const none = await bob.getDeviceStatus({ deviceData: data(assetTag) });
    assert.equal(none.credentialMatches, false);

    const again = await refused(alice.createDeviceEnrollToken({ autoEnrollDeviceData: data(assetTag) }));
    assert.deepEqual([again.code, again.details], [ErrorCode.ACCESS_DENIED, { reason: 'already_enrolled' }]);
    assert.match(
      again.message,
      /is already enrolled in cluster "status-it"; to enroll it again ask your administrator/,
    );
  });

  test("my devices: only the caller's own, with when each was last seen", async () => {
    ok(cluster.gatectl(['devices', 'add', '--asset-tag', 'SN-NOBODY', '--os', 'macos']));
    const { devices } = await alice.listMyDevices({});
    assert.deepEqual(
      devices.map((d) => [d.id, d.assetTag, d.osType, d.enrolled]),
      [[deviceId, assetTag, 'linux', true]],
    );
    assert.match(devices[0]!.credentialId, /^[0-9a-f]{64}$/);
    const lastSeen = Number(devices[0]!.lastSeenUnix);
    assert.ok(Math.abs(lastSeen - Date.now() / 1000) < 120, `last_seen_unix ${lastSeen}`);
    assert.deepEqual((await bob.listMyDevices({})).devices, []);
  });

  test('locks: the status names a lock on the device or on the caller; a locked login is refused with its message', async () => {
    const onDevice = lock(`--device=${deviceId}`, '--message=laptop reported stolen');
    let status = await bob.getDeviceStatus({ deviceData: data(assetTag) });
    assert.deepEqual([status.lockMessage, status.lockTarget], ['laptop reported stolen', `Device:${deviceId}`]);
    unlock(onDevice);

    const onUser = lock('--user=alice', '--message=see the helpdesk');
    try {
      // The status still answers a locked caller (it grants nothing) and says why they are locked...
      status = await alice.getDeviceStatus({ deviceData: data(assetTag) });
      assert.deepEqual([status.lockMessage, status.lockTarget], ['see the helpdesk', 'User:alice']);
      assert.equal((await bob.getDeviceStatus({ deviceData: data(assetTag) })).lockMessage, '');
      // ...every other call is refused with the lock's words, and so is a new login.
      const e = await refused(alice.listMyDevices({}));
      assert.equal(e.code, ErrorCode.ACCESS_DENIED);
      assert.match(e.message, /lock targeting User:"alice" is in force: see the helpdesk/);
      const r = login('alice');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /lock targeting User:"alice" is in force: see the helpdesk/);
    } finally {
      unlock(onUser);
    }
    assert.equal((await alice.getDeviceStatus({ deviceData: data(assetTag) })).lockMessage, '');
  });

  test('audit: device.token.create with auto_enroll for each refusal and the success', () => {
    const auto = audit('device.token.create').filter((e) => e['auto_enroll'] === true);
    const outcomes = auto.map((e) => [e['success'], e['user'], e['asset_tag']]);
    assert.deepEqual(outcomes, [
      // BAD_REQUEST refusals first (empty serial, then the one with asset_tag set), then the test order.
      [false, 'alice', ''],
      [false, 'alice', 'SN-1'],
      [false, 'alice', assetTag],
      [false, 'alice', assetTag],
      [true, 'alice', assetTag],
      [false, 'alice', assetTag],
    ]);
    assert.match(String(auto[2]!['message']), /auto-enroll is off/);
    assert.match(String(auto[3]!['message']), /is not registered/);
    assert.equal(auto[4]!['device_id'], deviceId);
    assert.match(String(auto[5]!['message']), /already enrolled/);
  });
});
