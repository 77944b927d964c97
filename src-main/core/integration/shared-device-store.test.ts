// One device identity per OS user, with the real parts: a cluster (`gatehouse start`) with device
// trust required and auto-enroll on, a throwaway swtpm as this machine's TPM, `gate` as a person
// runs it (HOME=<tmp>, no GATEHOUSE_HOME: logins in ~/.gatehouse) and a GatehouseClient rooted in
// the desktop app's home (~/.config/Gatehouse). `gate device enroll` makes gate's login trusted at
// once, the app's next login is trusted too (same AK, same enrollments.json), and the app-side
// calls (deviceStatus, myDevices, diagnostics) see it; then auto-enroll on a new TPM: refused
// while the device is not registered (with the admin's command), allowed once it is.
// Needs the TPM addon built, swtpm + tpm2-tools; fails with that reason otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterProcess, type ClusterUser } from '../../../test-support/cluster-process.ts';
import { startSwtpm, type Swtpm } from '../../../test-support/swtpm.ts';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { GatehouseClient } from '../gatehouse-client.ts';

const CAP = `kind: cluster_auth_preference
version: v2
metadata: { name: cluster-auth-preference }
spec:
  type: local
  second_factor: 'off'
  device_trust: { mode: required, auto_enroll: true }
`;

describe('one device store for gate and the desktop app (swtpm + real cluster)', () => {
  const cluster = new ClusterProcess({ clusterName: 'shared-dev' });
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-os-user-'));
  // The desktop app's home on Linux (src-main/app/home.ts defaultAppHome).
  const appHome = join(home, '.config', 'Gatehouse');
  const deviceStore = join(home, '.local', 'share', 'gatehouse', 'device');
  let tpm: Swtpm;
  let user: ClusterUser;
  let env: Record<string, string>;
  let assetTag = '';
  let credentialId = '';

  const gate = (args: string[], input = '', extra: Record<string, string> = {}) =>
    cluster.gate(args, input, { ...env, ...extra });
  const appClient = () => new GatehouseClient({ home: appHome, env });
  async function appLogin(core: GatehouseClient) {
    const api = await core.cluster(cluster.proxyAddr);
    try {
      await api.establishTrust({ caPin: cluster.caPin });
      return await core.login(api, { user: user.name, password: user.password });
    } finally {
      api.close();
    }
  }

  before(async () => {
    tpm = await startSwtpm();
    // Nothing but HOME says where things go, as on a person's machine.
    env = {
      HOME: home,
      GATEHOUSE_HOME: '',
      GATEHOUSE_DEVICE_HOME: '',
      XDG_DATA_HOME: '',
      XDG_CONFIG_HOME: '',
      GATEHOUSE_TPM_TCTI: tpm.tcti,
    };
    await cluster.start();
    cluster.apply(CAP);
    user = cluster.addUser('alice', ['access']);
  });
  after(async () => {
    await cluster.destroy();
    await tpm?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  test('gate and a client in the app home resolve the same device store', () => {
    assert.equal(appClient().deviceHome, deviceStore);
    const login = gate(
      ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', user.name, '--password-stdin'],
      user.password + '\n',
    );
    assert.equal(login.status, 0, login.stderr);
    assert.ok(existsSync(join(home, '.gatehouse', 'profiles')), "gate's logins stay in ~/.gatehouse");
    const tag = gate(['device', 'asset-tag']);
    assert.equal(tag.status, 0, tag.stderr);
    assetTag = tag.stdout.trim();
  });

  test('gate device enroll: trusted at once, and recorded in the shared store', () => {
    const add = cluster.gatectl(['devices', 'add', '--asset-tag', assetTag, '--os', 'linux', '--enroll']);
    assert.equal(add.status, 0, add.stderr);
    const token = /^ {2}(\S{20,})$/m.exec(add.stdout)?.[1] ?? '';
    const r = gate(['device', 'enroll'], '', { GATEHOUSE_TOKEN: token });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n${cluster.logs.slice(-3000)}`);
    assert.match(r.stderr, /^This login \(alice\) is now device-trusted; no need to log in again\.$/m);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(token), 'the token is never printed');
    credentialId = /^ {2}Credential ID: +([0-9a-f]{64})$/m.exec(r.stdout)?.[1] ?? '';
    assert.ok(credentialId, r.stdout);
    const status = gate(['status']);
    assert.match(status.stdout, /Device trust: +device-trusted/);
    assert.ok(existsSync(join(deviceStore, 'enrollments.json')));
    assert.ok(existsSync(join(deviceStore, 'tpm-ak.json')));
    assert.equal(existsSync(join(home, '.gatehouse', 'device')), false, 'nothing in the old per-client store');
  });

  test("the app's login on the same machine is device-trusted by gate's enrollment", async () => {
    const core = appClient();
    const outcome = await appLogin(core);
    assert.equal(outcome.deviceTrust.state, 'trusted', JSON.stringify(outcome.deviceTrust));
    assert.equal(outcome.profile.device?.credentialId, credentialId);
    assert.ok(existsSync(join(appHome, 'profiles')), "the app's logins stay in its own home");
  });

  test('deviceStatus, myDevices and diagnostics from the app home see the enrolled device', async () => {
    const core = appClient();
    const cold = await core.deviceStatus({ proxy: cluster.proxyAddr });
    assert.equal(cold.tpm.state, 'present');
    assert.equal(cold.tpm.manufacturer, 'IBM');
    assert.equal(cold.tpm.credentialId, credentialId);
    assert.equal(cold.tpmProbeCached, false);
    assert.equal(cold.clusterError, undefined, JSON.stringify(cold.clusterError));
    assert.equal(cold.cluster?.registered, true);
    assert.equal(cold.cluster?.enrolled, true);
    assert.equal(cold.cluster?.credentialMatches, true);
    assert.equal(cold.cluster?.deviceTrustMode, 'required');
    assert.equal(cold.cluster?.autoEnrollAvailable, false, 'enrolled already');
    assert.equal(cold.session?.deviceTrusted, true);
    assert.equal(cold.localEnrollment?.credentialId, credentialId);
    const warm = await core.deviceStatus({ proxy: cluster.proxyAddr });
    assert.equal(warm.tpmProbeCached, true);

    const mine = await core.myDevices(cluster.proxyAddr);
    assert.deepEqual(
      mine.map((d) => [d.assetTag, d.enrolled, d.thisDevice]),
      [[assetTag, true, true]],
    );
    assert.ok(mine[0]!.lastSeen, 'seen at enrollment / device authentication');

    const diag = gate(['device', 'diagnose', '--format', 'json']);
    assert.equal(diag.status, 0, diag.stderr);
    const d = JSON.parse(diag.stdout);
    assert.equal(d.client.name, 'gate');
    assert.equal(d.clusterStatus.enrolled, true);
    assert.equal(d.session.deviceTrusted, true);
    assert.doesNotMatch(diag.stdout, /-----BEGIN|PRIVATE KEY/);
    const text = gate(['device', 'status']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^ {2}Enrolled: +yes$/m);
    assert.match(text.stdout, /^ {2}Manufacturer: +IBM/m);
  });

  test('auto-enroll on a new TPM: refused while not registered (with the admin command), then trusted', async () => {
    const rm = cluster.gatectl(['devices', 'rm', '--asset-tag', assetTag]);
    assert.equal(rm.status, 0, rm.stderr);
    await tpm.stop();
    tpm = await startSwtpm();
    env.GATEHOUSE_TPM_TCTI = tpm.tcti;
    rmSync(join(deviceStore, 'tpm-ak.json'), { force: true });

    const refused = gate(['device', 'enroll', '--auto']);
    assert.equal(refused.status, 4, refused.stderr);
    assert.ok(
      refused.stderr.includes(`gatectl devices add --asset-tag ${assetTag} --os linux --enroll`),
      refused.stderr,
    );
    assert.match(refused.stderr, /run "gate device enroll --auto" again/);

    const core = appClient();
    const before = await core.deviceStatus({ proxy: cluster.proxyAddr });
    assert.equal(before.cluster?.registered, false);
    assert.equal(before.cluster?.adminCommand, `gatectl devices add --asset-tag ${assetTag} --os linux --enroll`);

    const add = cluster.gatectl(['devices', 'add', '--asset-tag', assetTag, '--os', 'linux']);
    assert.equal(add.status, 0, add.stderr);
    // A fresh login (the earlier one carries the old TPM's device fields): not trusted yet.
    const relogin = await appLogin(core);
    assert.equal(relogin.deviceTrust.state, 'failed', 'the new TPM is not enrolled yet');
    assert.equal((await core.deviceStatus({ proxy: cluster.proxyAddr })).cluster?.autoEnrollAvailable, true);
    const steps: string[] = [];
    const r = await core.enrollDevice({
      proxy: cluster.proxyAddr,
      auto: true,
      onStep: (s, state) => void steps.push(`${s}:${state}`),
    });
    assert.equal(r.profile.device?.credentialId, r.credentialId);
    assert.notEqual(r.credentialId, credentialId, 'a new TPM, a new AK');
    assert.deepEqual(
      steps.filter((s) => s.endsWith(':running')),
      ['check-tpm', 'create-ak', 'activate-credential', 'quote', 'authenticate'].map((s) => `${s}:running`),
    );
    assert.equal(steps.at(-1), 'done:done');
    const records = JSON.parse(readFileSync(join(deviceStore, 'enrollments.json'), 'utf8')).enrollments;
    assert.equal(records.length, 1);
    assert.equal(records[0].credentialId, r.credentialId);

    // Enrolling again with the key the device is enrolled with: the cluster refuses it (one
    // enrollment per device and key, decided by its write), with the reason the app and gate
    // word as "already enrolled", and nothing changes: the next login is trusted.
    const again = cluster.gatectl(['devices', 'enroll', '--asset-tag', assetTag]);
    const token = /^ {2}(\S{20,})$/m.exec(again.stdout)?.[1] ?? '';
    await assert.rejects(
      core.enrollDevice({ proxy: cluster.proxyAddr, token }),
      (e: unknown) =>
        e instanceof GatehouseError &&
        e.code === ErrorCode.ALREADY_EXISTS &&
        e.details?.reason === 'already_enrolled' &&
        /already enrolled with this attestation key/.test(e.message),
    );
    assert.equal((await appLogin(core)).deviceTrust.state, 'trusted', 'the next login is trusted');
  });
});
