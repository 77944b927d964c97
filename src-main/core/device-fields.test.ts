// Device fields read back from real certificates (SSH certs signed with the shared signer, X.509
// certs made with @peculiar/x509 carrying the raw UTF-8 extensions), and the checks a re-issued
// pair must pass before it replaces a login's certificates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  OID_DEVICE_ASSET_TAG,
  OID_DEVICE_CREDENTIAL_ID,
  OID_DEVICE_ID,
  SSH_EXT_DEVICE_ASSET_TAG,
  SSH_EXT_DEVICE_CREDENTIAL_ID,
  SSH_EXT_DEVICE_ID,
  type DeviceFields,
} from '../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import {
  formatCertificateLine,
  publicKeyToWire,
  signCertificate,
  STANDARD_USER_EXTENSIONS,
} from '../../src-shared/sshcert/index.ts';
import { checkReissuedCertificates, sshCertDeviceFields, tlsCertDeviceFields } from './device-fields.ts';

const FIELDS: DeviceFields = { deviceId: 'dev-1', assetTag: 'machine-id:abc', credentialId: 'c'.repeat(64) };
const EXPIRY = BigInt(Math.floor(Date.now() / 1000) + 3600);
const sshCa = generateKeyPairSync('ed25519').privateKey;
const userKey = generateKeyPairSync('ed25519');
const userBlob = publicKeyToWire(userKey.publicKey);

function sshCert(opts: { device?: DeviceFields; key?: Buffer; validBefore?: bigint } = {}): string {
  const d = opts.device;
  const blob = signCertificate({
    publicKey: opts.key ?? userBlob,
    type: 'user',
    keyId: 'alice',
    principals: ['alice'],
    validAfter: 0n,
    validBefore: opts.validBefore ?? EXPIRY,
    extensions: {
      ...STANDARD_USER_EXTENSIONS,
      ...(d
        ? {
            [SSH_EXT_DEVICE_ID]: d.deviceId,
            [SSH_EXT_DEVICE_ASSET_TAG]: d.assetTag,
            [SSH_EXT_DEVICE_CREDENTIAL_ID]: d.credentialId,
          }
        : {}),
    },
    caPrivateKey: sshCa,
  });
  return formatCertificateLine(blob);
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const caKeys = (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
const tlsUser = (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
const tlsOther = (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
const NOT_AFTER = new Date(Number(EXPIRY) * 1000);

async function tlsCert(opts: { device?: DeviceFields; keys?: CryptoKeyPair; notAfter?: Date } = {}): Promise<string> {
  const d = opts.device;
  const cert = await x509.X509CertificateGenerator.create({
    subject: 'CN=alice',
    issuer: 'CN=test user CA',
    publicKey: (opts.keys ?? tlsUser).publicKey,
    signingKey: caKeys.privateKey,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: opts.notAfter ?? NOT_AFTER,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: d
      ? [
          new x509.Extension(OID_DEVICE_ID, false, Buffer.from(d.deviceId)),
          new x509.Extension(OID_DEVICE_ASSET_TAG, false, Buffer.from(d.assetTag)),
          new x509.Extension(OID_DEVICE_CREDENTIAL_ID, false, Buffer.from(d.credentialId)),
        ]
      : [],
  });
  return cert.toString('pem');
}

const current = { sshCertificate: sshCert(), tlsCertificatePem: await tlsCert(), publicKeyBlob: userBlob };

test('device fields are read from both certificates, and absent from plain ones', async () => {
  assert.equal(sshCertDeviceFields(current.sshCertificate), undefined);
  assert.equal(tlsCertDeviceFields(current.tlsCertificatePem), undefined);
  assert.deepEqual(sshCertDeviceFields(sshCert({ device: FIELDS })), FIELDS);
  assert.deepEqual(tlsCertDeviceFields(await tlsCert({ device: FIELDS })), FIELDS);
});

test('a re-issued pair with the same key and expiry plus matching fields is accepted', async () => {
  const got = checkReissuedCertificates({
    current,
    reissued: { sshCertificate: sshCert({ device: FIELDS }), tlsCertificatePem: await tlsCert({ device: FIELDS }) },
    credentialId: FIELDS.credentialId,
  });
  assert.deepEqual(got, FIELDS);
});

test('re-issued certificates that are not the same login, or name another device, are refused', async () => {
  const good = { sshCertificate: sshCert({ device: FIELDS }), tlsCertificatePem: await tlsCert({ device: FIELDS }) };
  const cases: [string, Partial<typeof good>, RegExp, string?][] = [
    [
      'other SSH key',
      { sshCertificate: sshCert({ device: FIELDS, key: publicKeyToWire(generateKeyPairSync('ed25519').publicKey) }) },
      /SSH certificate is for another key/,
    ],
    [
      'SSH expiry moved',
      { sshCertificate: sshCert({ device: FIELDS, validBefore: EXPIRY + 60n }) },
      /not the same login/,
    ],
    [
      'other TLS key',
      { tlsCertificatePem: await tlsCert({ device: FIELDS, keys: tlsOther }) },
      /X\.509 certificate is for another key/,
    ],
    [
      'TLS expiry moved',
      { tlsCertificatePem: await tlsCert({ device: FIELDS, notAfter: new Date(NOT_AFTER.getTime() + 60_000) }) },
      /not the same login/,
    ],
    ['no TLS fields', { tlsCertificatePem: await tlsCert() }, /X\.509 certificate carries no device fields/],
    [
      'fields differ',
      { tlsCertificatePem: await tlsCert({ device: { ...FIELDS, deviceId: 'dev-2' } }) },
      /name different devices/,
    ],
    ['another credential', {}, /not this device's/, 'd'.repeat(64)],
  ];
  for (const [name, change, re, cred] of cases) {
    assert.throws(
      () =>
        checkReissuedCertificates({
          current,
          reissued: { ...good, ...change },
          credentialId: cred ?? FIELDS.credentialId,
        }),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.CERT_INVALID && re.test(e.message),
      name,
    );
  }
});
