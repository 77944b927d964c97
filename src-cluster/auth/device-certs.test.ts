import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { SqliteBackend } from '../storage/sqlite.ts';
import { createMemoryLogger } from '../log/logger.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import {
  formatCertificateLine,
  parseCertificateLine,
  publicKeyToWire,
  signCertificate,
  STANDARD_USER_EXTENSIONS,
} from '../../src-shared/sshcert/index.ts';
import {
  SSH_EXT_DEVICE_ASSET_TAG,
  SSH_EXT_DEVICE_ID,
  SSH_EXT_ROLES,
  sshDeviceFields,
} from '../../src-shared/cert-fields.ts';
import { loadOrCreateAuthorities, type CertAuthorities } from './authorities.ts';
import { checkPresentedCerts, reissueWithDevice } from './device-certs.ts';
import { identityFromClientCert, issueClientCert } from './x509.ts';

const DEVICE = { deviceId: '6f1c2a8e-0000-4000-8000-000000000001', assetTag: 'SN-1', credentialId: 'ab'.repeat(32) };

const backends: SqliteBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

async function authorities(): Promise<CertAuthorities> {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  backends.push(backend);
  return loadOrCreateAuthorities(backend, 'test', createMemoryLogger());
}

async function login(cas: CertAuthorities, user = 'alice', key?: KeyObject, sshKey?: KeyObject) {
  const publicKey = key ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const now = Math.floor(Date.now() / 1000);
  const expires = new Date((now + 3600) * 1000);
  const ssh = signCertificate({
    publicKey: publicKeyToWire(sshKey ?? publicKey),
    type: 'user',
    keyId: user,
    principals: [user, 'root'],
    validAfter: BigInt(now - 60),
    validBefore: BigInt(now + 3600),
    extensions: { ...STANDARD_USER_EXTENSIONS, [SSH_EXT_ROLES]: '["access"]' },
    caPrivateKey: cas.sshUser.privateKey,
  });
  const tls = await issueClientCert({
    ca: cas.tlsUser.material,
    publicKey,
    notBefore: new Date((now - 60) * 1000),
    notAfter: expires,
    user,
    roles: ['access'],
    logins: [user, 'root'],
  });
  return {
    sshCertificate: formatCertificateLine(ssh, user),
    tlsCertificatePem: tls,
    der: new X509Certificate(tls).raw,
  };
}

function refusedWith(reason: string, code: string = ErrorCode.CERT_INVALID) {
  return (e: unknown) => e instanceof GatehouseError && e.code === code && e.details?.['reason'] === reason;
}

test('re-issued certificates keep key, identity and expiry and add the three device fields', async () => {
  const cas = await authorities();
  const certs = await login(cas);
  const checked = checkPresentedCerts(cas, certs, { user: 'alice', certDer: certs.der });
  const issued = await reissueWithDevice(cas, checked, DEVICE);

  const before = parseCertificateLine(certs.sshCertificate);
  const after = parseCertificateLine(issued.sshCertificate);
  assert.equal(after.validBefore, before.validBefore);
  assert.equal(after.validAfter, before.validAfter);
  assert.deepEqual(after.principals, before.principals);
  assert.ok(after.publicKey.equals(before.publicKey));
  assert.equal(after.extensions[SSH_EXT_ROLES], '["access"]');
  assert.deepEqual(sshDeviceFields(after), DEVICE);

  const oldTls = new X509Certificate(certs.tlsCertificatePem);
  const newTls = new X509Certificate(issued.tlsCertificate);
  assert.equal(newTls.validTo, oldTls.validTo);
  assert.ok(newTls.publicKey.equals(oldTls.publicKey));
  assert.ok(newTls.verify(new X509Certificate(cas.tlsUser.material.certPem).publicKey));
  const id = identityFromClientCert(newTls.raw);
  assert.deepEqual(id.device, DEVICE);
  assert.deepEqual([id.user, id.roles, id.logins], ['alice', ['access'], ['alice', 'root']]);

  // Once device-trusted, the certificates cannot go through the ceremony again.
  assert.throws(
    () =>
      checkPresentedCerts(
        cas,
        { sshCertificate: issued.sshCertificate, tlsCertificatePem: issued.tlsCertificate },
        { user: 'alice', certDer: newTls.raw },
      ),
    refusedWith('already_device_trusted', ErrorCode.BAD_REQUEST),
  );
});

test('a certificate pair with only an SSH device extension is refused too', async () => {
  const cas = await authorities();
  const certs = await login(cas);
  const parsed = parseCertificateLine(certs.sshCertificate);
  const forged = signCertificate({
    publicKey: parsed.publicKey,
    type: 'user',
    keyId: 'alice',
    principals: parsed.principals,
    validAfter: parsed.validAfter,
    validBefore: parsed.validBefore,
    extensions: { ...parsed.extensions, [SSH_EXT_DEVICE_ID]: 'x', [SSH_EXT_DEVICE_ASSET_TAG]: 'y' },
    caPrivateKey: cas.sshUser.privateKey,
  });
  assert.throws(
    () =>
      checkPresentedCerts(
        cas,
        { sshCertificate: formatCertificateLine(forged), tlsCertificatePem: certs.tlsCertificatePem },
        { user: 'alice', certDer: certs.der },
      ),
    refusedWith('already_device_trusted', ErrorCode.BAD_REQUEST),
  );
});

test('presented certificates must be this connection’s, this user’s, one key, from this cluster', async () => {
  const cas = await authorities();
  const other = await authorities();
  const certs = await login(cas);
  const second = await login(cas);
  assert.throws(
    () => checkPresentedCerts(cas, certs, { user: 'alice', certDer: second.der }),
    refusedWith('not_connection_cert'),
  );
  assert.throws(() => checkPresentedCerts(cas, certs, { user: 'bob', certDer: certs.der }), refusedWith('other_user'));

  const split = await login(cas, 'alice', undefined, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  assert.throws(
    () => checkPresentedCerts(cas, split, { user: 'alice', certDer: split.der }),
    refusedWith('key_mismatch'),
  );

  const foreign = await login(other);
  assert.throws(
    () =>
      checkPresentedCerts(
        cas,
        { sshCertificate: foreign.sshCertificate, tlsCertificatePem: certs.tlsCertificatePem },
        { user: 'alice', certDer: certs.der },
      ),
    refusedWith('untrusted-ca'),
  );
  assert.throws(
    () =>
      checkPresentedCerts(
        cas,
        { sshCertificate: 'ssh-ed25519 AAAA garbage', tlsCertificatePem: certs.tlsCertificatePem },
        { user: 'alice', certDer: certs.der },
      ),
    refusedWith('malformed'),
  );
});

test('an expired SSH certificate is refused', async () => {
  const cas = await authorities();
  const certs = await login(cas);
  const later = new Date(Date.now() + 2 * 3600_000);
  assert.throws(
    () => checkPresentedCerts(cas, certs, { user: 'alice', certDer: certs.der }, later),
    refusedWith('expired'),
  );
});
