// The authentication ceremony's server half against real TPMs (two swtpms driven by tpm2-tools):
// an enrolled device's quote gets the login's certificates re-issued with the device fields (read
// back with OpenSSH's ssh-keygen and as X.509), and every lie is refused with its code and reason
// without touching the device record.
import { spawnSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { AuditEventInput } from '../../audit/audit-events.ts';
import {
  SSH_EXT_DEVICE_ASSET_TAG,
  SSH_EXT_DEVICE_CREDENTIAL_ID,
  SSH_EXT_DEVICE_ID,
} from '../../../src-shared/cert-fields.ts';
import type {
  AuthenticateDeviceRequest,
  AuthenticateDeviceResponseSchema,
  EnrollDeviceRequest,
  EnrollDeviceResponseSchema,
} from '../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { identityFromClientCert } from '../../auth/x509.ts';
import { authenticateDevice } from '../authentication.ts';
import { enrollDevice } from '../enrollment.ts';
import type { StoredDevice } from '../inventory.ts';
import {
  activate,
  authAnswer,
  authInit,
  createDeviceAk,
  enrollAnswer,
  enrollInit,
  flip,
  quote,
  startDeviceTpm,
  type DeviceAk,
  type DeviceTpm,
} from './ceremony-device.ts';
import {
  Ceremony,
  loginCerts,
  payloadOf,
  registerDevice,
  rejectsWith,
  startTestCluster,
  type LoginCerts,
  type TestCluster,
} from './ceremony-driver.ts';

interface Enrolled {
  tpm: DeviceTpm;
  ak: DeviceAk;
  id: string;
  tag: string;
}

let c: TestCluster;
let tmp: string;
let a: Enrolled;
let b: Enrolled;

async function enrollOn(tpm: DeviceTpm, tag: string): Promise<Enrolled> {
  const ak = createDeviceAk(tpm, `ak-${tag}`);
  const { id, token } = await registerDevice(c, tag);
  const ceremony = new Ceremony<EnrollDeviceRequest, MessageInitShape<typeof EnrollDeviceResponseSchema>>((r) =>
    enrollDevice(c.deps, { user: 'alice', address: 'test' }, r),
  );
  const challenge = payloadOf(
    await ceremony.send(enrollInit(tpm, ak, { token, serial: tag })).receive(),
    'tpmChallenge',
  );
  const secret = activate(tpm, ak, challenge.encryptedCredential ?? {});
  ceremony.send(enrollAnswer(secret, quote(tpm, ak, challenge.attestationNonce ?? new Uint8Array())));
  assert.equal(payloadOf(await ceremony.receive(), 'success').device?.enrollStatus, 'enrolled');
  return { tpm, ak, id, tag };
}

before(async () => {
  let tpmA: DeviceTpm, tpmB: DeviceTpm;
  [c, tpmA, tpmB] = await Promise.all([startTestCluster(), startDeviceTpm(), startDeviceTpm()]);
  tmp = mkdtempSync(join(tmpdir(), 'gatehouse-ceremony-ssh-'));
  a = await enrollOn(tpmA, 'SN-AUTH-A');
  b = await enrollOn(tpmB, 'SN-AUTH-B');
});
after(async () => {
  await Promise.all([c?.close(), a?.tpm.close(), b?.tpm.close()]);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

type AuthResponse = MessageInitShape<typeof AuthenticateDeviceResponseSchema>;

function start(
  login: LoginCerts,
  connectionCertDer = login.certDer,
): Ceremony<AuthenticateDeviceRequest, AuthResponse> {
  const caller = { user: login.user, address: '127.0.0.1:50001', certDer: connectionCertDer };
  return new Ceremony((requests) => authenticateDevice(c.deps, caller, requests));
}

/** Sends init (the login certs, a credential id and a serial) and returns the nonce. */
async function challenged(login: LoginCerts, credentialId: string, serial: string, connectionCertDer?: Buffer) {
  const ceremony = start(login, connectionCertDer).send(authInit({ ...login, credentialId, serial }));
  const challenge = payloadOf(await ceremony.receive(), 'tpmChallenge');
  assert.deepEqual(challenge.pcrs, [0, 1, 2, 3, 4, 5, 6, 7]);
  return { ceremony, nonce: challenge.attestationNonce ?? new Uint8Array() };
}

/** `ssh-keygen -L` of a certificate line (OpenSSH's own reading of it). */
function sshKeygenList(certLine: string): string {
  const file = join(tmp, `c-${process.hrtime.bigint()}-cert.pub`);
  writeFileSync(file, certLine + '\n');
  const r = spawnSync('ssh-keygen', ['-L', '-f', file], { encoding: 'utf8' });
  if (r.error) throw new Error(`ssh-keygen not runnable (apt-get install openssh-client): ${r.error.message}`);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** How ssh-keygen shows an extension it does not know: the SSH string of the value, in hex. */
function unknownExtensionLine(name: string, value: string): string {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(Buffer.byteLength(value));
  const wire = Buffer.concat([len, Buffer.from(value)]);
  return `${name} UNKNOWN OPTION: ${wire.toString('hex')} (len ${wire.length})`;
}

const validLine = (listing: string) => listing.match(/^\s*Valid: (.+)$/m)?.[1];

async function unchanged(device: StoredDevice): Promise<void> {
  assert.deepEqual(await c.inventory.get(device.metadata.name), device, 'the device record changed');
}

test("an enrolled device's quote re-issues the login's certificates with the device fields", async () => {
  const login = await loginCerts(c.cas, 'alice');
  const beforeAuth = await c.inventory.get(a.id);
  const { ceremony, nonce } = await challenged(login, a.ak.credentialId, a.tag);
  ceremony.send(authAnswer(quote(a.tpm, a.ak, nonce)));
  const success = payloadOf(await ceremony.receive(), 'success');
  await ceremony.end();
  const issued = success.userCertificates!;
  assert.equal(success.device?.id, a.id);
  assert.equal(success.device?.credentialId, a.ak.credentialId);

  const fields = { deviceId: a.id, assetTag: a.tag, credentialId: a.ak.credentialId };
  const listing = sshKeygenList(issued.sshCertificate!);
  assert.ok(listing.includes(unknownExtensionLine(SSH_EXT_DEVICE_ID, fields.deviceId)), listing);
  assert.ok(listing.includes(unknownExtensionLine(SSH_EXT_DEVICE_ASSET_TAG, fields.assetTag)), listing);
  assert.ok(listing.includes(unknownExtensionLine(SSH_EXT_DEVICE_CREDENTIAL_ID, fields.credentialId)), listing);
  const original = sshKeygenList(login.sshCertificate);
  assert.ok(validLine(listing), listing);
  assert.equal(validLine(listing), validLine(original));
  assert.match(listing, /Key ID: "alice"/);
  // Same key, same principals and the login's other extensions kept.
  const block = (s: string, from: string) => s.slice(s.indexOf(from)).split('Extensions:')[0];
  assert.equal(block(listing, 'Public key:'), block(original, 'Public key:'));
  const extensions = (s: string) =>
    s
      .split('Extensions:')[1]!
      .trim()
      .split('\n')
      .map((l) => l.trim());
  assert.deepEqual(
    extensions(listing).filter((l) => !l.startsWith('gatehouse-device-')),
    extensions(original),
  );

  const tls = new X509Certificate(issued.tlsCertificate!);
  const identity = identityFromClientCert(tls.raw);
  assert.deepEqual(identity.device, fields);
  assert.equal(identity.user, 'alice');
  assert.deepEqual(identity.logins, ['alice', 'root']);
  assert.equal(tls.validTo, new X509Certificate(login.tlsCertificatePem).validTo);
  assert.equal(identity.notAfter.getTime(), login.notAfter.getTime());
  assert.ok(tls.publicKey.equals(new X509Certificate(login.tlsCertificatePem).publicKey));
  assert.ok(tls.verify(new X509Certificate(c.cas.tlsUser.material.certPem).publicKey));

  const after = await c.inventory.get(a.id);
  assert.equal(after.spec.collected_data.length, beforeAuth.spec.collected_data.length + 1);
  assert.equal(after.spec.collected_data.at(-1)?.serial_number, a.tag);
  assert.deepEqual(after.spec.credential, beforeAuth.spec.credential);

  // Re-issued certificates sent again (on a connection made with them) are refused.
  const trusted: LoginCerts = {
    ...login,
    sshCertificate: issued.sshCertificate!,
    tlsCertificatePem: issued.tlsCertificate!,
    certDer: tls.raw,
  };
  await rejectsWith(
    start(trusted)
      .send(authInit({ ...trusted, credentialId: a.ak.credentialId, serial: a.tag }))
      .receive(),
    ErrorCode.BAD_REQUEST,
    'already_device_trusted',
    /already carry device fields/,
  );
  await unchanged(after);
});

test("a quote over an earlier ceremony's nonce is refused (nonce_mismatch)", async () => {
  const login = await loginCerts(c.cas, 'alice');
  const old = await challenged(login, a.ak.credentialId, a.tag);
  const oldQuote = quote(a.tpm, a.ak, old.nonce);
  await old.ceremony.abandon();
  const device = await c.inventory.get(a.id);
  const { ceremony, nonce } = await challenged(login, a.ak.credentialId, a.tag);
  assert.notDeepEqual(nonce, old.nonce);
  ceremony.send(authAnswer(oldQuote));
  await rejectsWith(ceremony.receive(), ErrorCode.DEVICE_ATTESTATION_FAILED, 'nonce_mismatch');
  await unchanged(device);
});

test('a tampered quote fails its signature check (bad_signature)', async () => {
  const login = await loginCerts(c.cas, 'alice');
  const device = await c.inventory.get(a.id);
  const { ceremony, nonce } = await challenged(login, a.ak.credentialId, a.tag);
  const platform = quote(a.tpm, a.ak, nonce);
  ceremony.send(authAnswer({ ...platform, quote: { ...platform.quote, quote: flip(platform.quote.quote, -1) } }));
  await rejectsWith(ceremony.receive(), ErrorCode.DEVICE_ATTESTATION_FAILED, 'bad_signature');
  await unchanged(device);
});

test("another device's credential id with this TPM's quote is refused (checked against that device's AK)", async () => {
  const login = await loginCerts(c.cas, 'alice');
  const [devA, devB] = [await c.inventory.get(a.id), await c.inventory.get(b.id)];
  // B's credential and B's serial, but only A's TPM at hand: the quote is A's AK over B's nonce.
  const { ceremony, nonce } = await challenged(login, b.ak.credentialId, b.tag);
  ceremony.send(authAnswer(quote(a.tpm, a.ak, nonce)));
  await rejectsWith(ceremony.receive(), ErrorCode.DEVICE_ATTESTATION_FAILED, 'bad_signature');
  await unchanged(devA);
  await unchanged(devB);
});

test("a TLS certificate that is not the connection's is refused (not_connection_cert)", async () => {
  const login = await loginCerts(c.cas, 'alice');
  const connection = await loginCerts(c.cas, 'alice');
  const device = await c.inventory.get(a.id);
  await rejectsWith(
    start(login, connection.certDer)
      .send(authInit({ ...login, credentialId: a.ak.credentialId, serial: a.tag }))
      .receive(),
    ErrorCode.CERT_INVALID,
    'not_connection_cert',
  );
  await unchanged(device);
});

test('an unknown credential and a serial that is not the asset tag are refused', async () => {
  const login = await loginCerts(c.cas, 'alice');
  const device = await c.inventory.get(a.id);
  await rejectsWith(
    start(login)
      .send(authInit({ ...login, credentialId: randomBytes(32).toString('hex'), serial: a.tag }))
      .receive(),
    ErrorCode.DEVICE_NOT_ENROLLED,
    'unknown_credential',
  );
  await rejectsWith(
    start(login)
      .send(authInit({ ...login, credentialId: a.ak.credentialId, serial: b.tag }))
      .receive(),
    ErrorCode.ACCESS_DENIED,
    'asset_tag_mismatch',
  );
  await unchanged(device);
});

test('a quote over fewer PCRs, or PCR values that are not the quoted ones, is refused (pcr_mismatch)', async () => {
  const login = await loginCerts(c.cas, 'alice');
  const device = await c.inventory.get(a.id);
  const first = await challenged(login, a.ak.credentialId, a.tag);
  // The TPM signs a quote over PCRs 0-1 only; the client claims all eight values.
  const partial = quote(a.tpm, a.ak, first.nonce, [0, 1]);
  const all = quote(a.tpm, a.ak, first.nonce);
  first.ceremony.send(authAnswer({ quote: partial.quote, pcrs: all.pcrs }));
  await rejectsWith(first.ceremony.receive(), ErrorCode.DEVICE_ATTESTATION_FAILED, 'pcr_mismatch', /selects PCRs/);

  const second = await challenged(login, a.ak.credentialId, a.tag);
  const honest = quote(a.tpm, a.ak, second.nonce);
  // A clean boot's PCR 7 claimed instead of the measured one.
  const pcrs = honest.pcrs.map((p) => (p.index === 7 ? { index: 7, value: Buffer.alloc(32) } : p));
  second.ceremony.send(authAnswer({ ...honest, pcrs }));
  await rejectsWith(second.ceremony.receive(), ErrorCode.DEVICE_ATTESTATION_FAILED, 'pcr_mismatch', /do not match/);
  await unchanged(device);
});

test('with the cluster mode off there is no device authentication, and nothing is touched', async () => {
  const login = await loginCerts(c.cas, 'alice');
  const device = await c.inventory.get(a.id);
  const caller = { user: login.user, address: '127.0.0.1:50001', certDer: login.certDer };
  const ceremony = new Ceremony<AuthenticateDeviceRequest, AuthResponse>((requests) =>
    authenticateDevice({ ...c.deps, clusterDeviceTrustMode: () => 'off' }, caller, requests),
  );
  await rejectsWith(
    ceremony.send(authInit({ ...login, credentialId: a.ak.credentialId, serial: a.tag })).receive(),
    ErrorCode.BAD_REQUEST,
    'device_trust_off',
  );
  await unchanged(device);
});

test('no device-trusted certificates leave when the audit log cannot record them (fail closed)', async () => {
  const login = await loginCerts(c.cas, 'alice');
  const recorded: AuditEventInput[] = [];
  const audit = {
    emit: async (event: AuditEventInput) => {
      if (event.success)
        throw new GatehouseError(ErrorCode.STORAGE, `audit log could not record ${event.type}: disk full`);
      recorded.push(event);
    },
  };
  const caller = { user: login.user, address: '127.0.0.1:50001', certDer: login.certDer };
  const ceremony = new Ceremony<AuthenticateDeviceRequest, AuthResponse>((requests) =>
    authenticateDevice({ ...c.deps, audit }, caller, requests),
  );
  ceremony.send(authInit({ ...login, credentialId: a.ak.credentialId, serial: a.tag }));
  const nonce = payloadOf(await ceremony.receive(), 'tpmChallenge').attestationNonce ?? new Uint8Array();
  ceremony.send(authAnswer(quote(a.tpm, a.ak, nonce)));
  await rejectsWith(
    ceremony.receive(),
    ErrorCode.STORAGE,
    undefined,
    /could not record device\.authenticate: disk full/,
  );
  assert.deepEqual(
    recorded.map((e) => [e.type, e.success, e.fields?.['device_id']]),
    [['device.authenticate', false, a.id]],
  );
});
