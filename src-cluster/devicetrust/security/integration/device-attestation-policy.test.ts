// Issue 11, device trust policy, against a real `gatehouse start` and its real API:
// 1. a client with an enroll token and no TPM (software EK and AK, ActivateCredential in software,
//    talking the real EnrollDevice stream) enrolls as ekpub under the default policy — kept for
//    Teleport compatibility, but `gatectl status` and the start-up log now warn when mode is
//    required — and is refused with ekpub_allowed: false or when the device is bound to another EK
//    (--ek-key-hash); a real swtpm device bound to its own EK enrolls with the real `gate`.
// 2. a policy tightened later applies to devices already enrolled: their next device
//    authentication is refused with the reason, audited, and flagged by `gatectl devices ls`.
// Needs swtpm + tpm2-tools and the TPM addon (the real device); fails saying so otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '../../../../src-shared/errors.ts';
import { ClusterProcess } from '../../../../test-support/cluster-process.ts';
import { startSwtpm, type Swtpm } from '../../../../test-support/swtpm.ts';
import { authAnswer, authInit, enrollAnswer } from '../../integration/ceremony-device.ts';
import { payloadOf, rejectsWith } from '../../integration/ceremony-driver.ts';
import { apiCeremony, userSession } from './api-ceremony.ts';
import { softwareActivate, softwareEnrollInit, softwareQuote, softwareTpm, type SoftwareTpm } from './software-tpm.ts';

const WARNING =
  'WARNING: device trust mode is required while EK-public-only enrollment is allowed, so a machine with no TPM ' +
  'can enroll with software keys and pass as a trusted device';
const EKPUB_REFUSAL =
  'this cluster does not accept TPMs vouched for only by their EK public key (device_trust.ekpub_allowed: false)';

type AuditEvent = Record<string, unknown> & { type: string; success: boolean; message: string };

describe('device attestation policy: software TPM vs the real API, policy tightened later', () => {
  const cluster = new ClusterProcess({ clusterName: 'devpolicy' });
  let swtpm: Swtpm;
  const bobHome = () => join(cluster.dir, 'home-bob');
  const bob = { name: 'bob', password: '' };
  const attacker: SoftwareTpm = softwareTpm();
  let attackerDeviceId = '';
  let realTag = '';

  const ok = (r: { status: number; stdout: string; stderr: string }) => {
    assert.equal(r.status, 0, r.stderr + r.stdout);
    return r.stdout;
  };
  const setDeviceTrust = (deviceTrust: Record<string, unknown>) => {
    const file = join(cluster.dir, 'cap.json');
    const doc = {
      kind: 'cluster_auth_preference',
      version: 'v2',
      metadata: { name: 'cluster-auth-preference' },
      spec: { type: 'local', second_factor: 'off', device_trust: deviceTrust },
    };
    writeFileSync(file, JSON.stringify(doc));
    assert.equal(ok(cluster.gatectl(['create', '-f', file])).trim(), 'cluster auth preference has been updated');
  };
  const addDevice = (tag: string, ekKeyHash?: string) => {
    const extra = ekKeyHash ? ['--ek-key-hash', ekKeyHash] : [];
    const out = ok(cluster.gatectl(['devices', 'add', '--asset-tag', tag, '--os', 'linux', ...extra, '--enroll']));
    const token = /^ {2}(\S{20,})$/m.exec(out)?.[1];
    const id = /^Device ID: (\S+)$/m.exec(out)?.[1];
    assert.ok(token && id, out);
    return { token, id, out };
  };
  const devicesLs = () => ok(cluster.gatectl(['devices', 'ls']));
  const audit = (type: string): AuditEvent[] =>
    ok(cluster.gatectl(['audit', '--format', 'json', '--order', 'asc', '--limit', '5000', '--type', type]))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEvent);
  const bobGate = (args: string[], input = '') =>
    cluster.gate(args, input, { GATEHOUSE_HOME: bobHome(), GATEHOUSE_TPM_TCTI: swtpm.tcti });
  const bobLogin = () =>
    bobGate(
      ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', bob.name, '--password-stdin'],
      `${bob.password}\n`,
    );

  /** The software client's enrollment over the real EnrollDevice stream; the device on success. */
  async function softwareEnroll(t: SoftwareTpm, token: string, serial: string) {
    const alice = userSession(cluster, 'alice');
    const c = apiCeremony(alice.device.enrollDevice.bind(alice.device));
    c.send(softwareEnrollInit(t, token, serial));
    const challenge = payloadOf(await c.receive(), 'tpmChallenge');
    const secret = softwareActivate(t, challenge.encryptedCredential!);
    c.send(enrollAnswer(secret, softwareQuote(t, challenge.attestationNonce, challenge.pcrs)));
    return payloadOf(await c.receive(), 'success').device!;
  }

  /** Device authentication of alice's login with the software TPM; the re-issued certificates on success. */
  async function softwareAuthenticate(t: SoftwareTpm, serial: string) {
    const alice = userSession(cluster, 'alice');
    const c = apiCeremony(alice.device.authenticateDevice.bind(alice.device));
    c.send(authInit({ ...alice, credentialId: t.credentialId, serial }));
    const challenge = payloadOf(await c.receive(), 'tpmChallenge');
    c.send(authAnswer(softwareQuote(t, challenge.attestationNonce, challenge.pcrs)));
    return payloadOf(await c.receive(), 'success');
  }

  before(async () => {
    swtpm = await startSwtpm();
    await cluster.start();
    const alice = cluster.addUser('alice', ['access']);
    ok(
      cluster.gate(
        ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', 'alice', '--password-stdin'],
        `${alice.password}\n`,
      ),
    );
    bob.password = cluster.addUser('bob', ['access']).password;
    ok(bobLogin());
  });
  after(async () => {
    await cluster.destroy();
    await swtpm?.stop();
  });

  test('default policy: a client with no TPM enrolls as ekpub and gets device-trusted certificates (compatibility)', async () => {
    const { token, id } = addDevice('SOFT-1');
    attackerDeviceId = id;
    const device = await softwareEnroll(attacker, token, 'SOFT-1');
    assert.equal(device.attestationType, 'ekpub');
    assert.equal(device.enrollStatus, 'enrolled');
    const issued = await softwareAuthenticate(attacker, 'SOFT-1');
    assert.match(issued.userCertificates!.tlsCertificate, /BEGIN CERTIFICATE/);
    assert.equal(issued.device?.id, id);
    assert.match(devicesLs(), new RegExp(`^SOFT-1\\s+linux\\s+enrolled\\s+${id}$`, 'm'));
  });

  test('mode required with EK-public-only enrollment allowed: gatectl status and the start-up log warn', async () => {
    assert.ok(!ok(cluster.gatectl(['status'])).includes('WARNING'), 'no warning in mode optional');
    setDeviceTrust({ mode: 'required' });
    const status = ok(cluster.gatectl(['status']));
    assert.match(status, /^Device trust: required, ekpub_allowed: true$/m);
    assert.ok(status.includes(WARNING), status);
    await cluster.stop();
    const from = cluster.logs.length;
    await cluster.start();
    assert.ok(cluster.logs.slice(from).includes(WARNING), cluster.logs.slice(from));
  });

  test('ekpub_allowed: false — the enrolled software device is refused at its next authentication, audited, flagged', async () => {
    setDeviceTrust({ mode: 'required', ekpub_allowed: false });
    assert.ok(!ok(cluster.gatectl(['status'])).includes('WARNING'));
    const before = audit('device.authenticate').length;
    await rejectsWith(
      softwareAuthenticate(attacker, 'SOFT-1'),
      ErrorCode.DEVICE_ATTESTATION_FAILED,
      undefined,
      new RegExp(`device "SOFT-1"/linux no longer meets this cluster's device trust policy: ${escape(EKPUB_REFUSAL)}`),
    );
    const [event, ...more] = audit('device.authenticate').slice(before);
    assert.equal(more.length, 0);
    assert.equal(event?.success, false);
    assert.equal(event?.['reason'], 'ekpub_not_allowed');
    assert.equal(event?.['device_id'], attackerDeviceId);
    assert.match(event!.message, /no longer meets this cluster's device trust policy/);
    assert.match(
      devicesLs(),
      new RegExp(`^SOFT-1\\s+linux\\s+enrolled \\(fails policy: ekpub not allowed\\)\\s+${attackerDeviceId}$`, 'm'),
    );
  });

  test('ekpub_allowed: false — a new software device cannot enroll', async () => {
    const { token, id } = addDevice('SOFT-2');
    const before = audit('device.enroll').length;
    await rejectsWith(
      softwareEnroll(softwareTpm(), token, 'SOFT-2'),
      ErrorCode.DEVICE_ATTESTATION_FAILED,
      undefined,
      new RegExp(escape(EKPUB_REFUSAL)),
    );
    const [event] = audit('device.enroll').slice(before);
    assert.equal(event?.success, false);
    assert.equal(event?.['reason'], 'ekpub_not_allowed');
    assert.match(devicesLs(), new RegExp(`^SOFT-2\\s+linux\\s+not_enrolled\\s+${id}$`, 'm'));
  });

  test('a device bound to another EK (--ek-key-hash) refuses the software client even under the default policy', async () => {
    setDeviceTrust({ mode: 'required', ekpub_allowed: true });
    const realHash = JSON.parse(ok(bobGate(['device', 'keyget', '--format', 'json']))).ek_key_hash as string;
    const bad = cluster.gatectl(['devices', 'add', '--asset-tag', 'X', '--os', 'linux', '--ek-key-hash', 'ABC']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--ek-key-hash must be 64 lowercase hex digits/);
    const { token, out } = addDevice('SOFT-3', realHash);
    assert.match(out, new RegExp(`Bound to the TPM with EK key hash ${realHash}: only that TPM can enroll`));
    await rejectsWith(
      softwareEnroll(softwareTpm(), token, 'SOFT-3'),
      ErrorCode.DEVICE_ATTESTATION_FAILED,
      undefined,
      new RegExp(
        `this device is bound to the TPM whose EK key hash is ${realHash} \\(gatectl devices add --ek-key-hash\\), and this TPM's is [0-9a-f]{64}`,
      ),
    );
    const [event] = audit('device.enroll').slice(-1);
    assert.equal(event?.['reason'], 'ek_key_mismatch');
  });

  test('a real swtpm device bound with its own EK key hash enrolls (even with ekpub_allowed: false) and logs in device-trusted', () => {
    setDeviceTrust({ mode: 'required', ekpub_allowed: false });
    const keyget = JSON.parse(ok(bobGate(['device', 'keyget', '--format', 'json'])));
    realTag = ok(bobGate(['device', 'asset-tag'])).trim();
    const { token } = addDevice(realTag, keyget.ek_key_hash);
    const enrolled = ok(bobGate(['device', 'enroll', '--token-stdin'], `${token}\n`));
    assert.match(enrolled, /Attestation type: ekcert/);
    assert.match(ok(bobLogin()), /this session is device-trusted/);
    assert.match(devicesLs(), new RegExp(`^${escape(realTag)}\\s+linux\\s+enrolled\\s+[0-9a-f-]{36}$`, 'm'));
  });

  test('ekcert_allowed_cas set later: the ekpub device fails "ekcert required", the swtpm device passes, then fails with another CA', async () => {
    setDeviceTrust({ mode: 'required', ekpub_allowed: true, ekcert_allowed_cas: [swtpm.ekCaCertPem] });
    const before = audit('device.authenticate').length;
    await rejectsWith(
      softwareAuthenticate(attacker, 'SOFT-1'),
      ErrorCode.DEVICE_ATTESTATION_FAILED,
      undefined,
      /no longer meets this cluster's device trust policy: this cluster only accepts TPMs with an EK certificate from its allowed CAs \(ekcert_allowed_cas\), and this device enrolled without one/,
    );
    assert.equal(audit('device.authenticate').slice(before)[0]?.['reason'], 'ekcert_required');
    let ls = devicesLs();
    assert.match(
      ls,
      new RegExp(`^SOFT-1\\s+linux\\s+enrolled \\(fails policy: ekcert required\\)\\s+${attackerDeviceId}$`, 'm'),
    );
    assert.match(ls, new RegExp(`^${escape(realTag)}\\s+linux\\s+enrolled\\s+[0-9a-f-]{36}$`, 'm'));
    assert.match(ok(bobLogin()), /this session is device-trusted/);

    // Only the root above the swtpm's issuing CA, and no intermediates: the stored EK cert no longer chains.
    setDeviceTrust({ mode: 'required', ekpub_allowed: true, ekcert_allowed_cas: [swtpm.rootCaCertPem] });
    ls = devicesLs();
    assert.match(
      ls,
      new RegExp(
        `^${escape(realTag)}\\s+linux\\s+enrolled \\(fails policy: ekcert untrusted\\)\\s+[0-9a-f-]{36}$`,
        'm',
      ),
    );
    const login = bobLogin();
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stdout + login.stderr, /no longer meets this cluster's device trust policy/);
    assert.doesNotMatch(login.stdout, /this session is device-trusted/);
    const [last] = audit('device.authenticate').slice(-1);
    assert.equal(last?.success, false);
    assert.equal(last?.['reason'], 'untrusted_ek_cert');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
