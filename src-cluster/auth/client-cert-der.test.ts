import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, webcrypto, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509_DEVICE_OIDS, type DeviceFields } from '../../src-shared/cert-fields.ts';
import { oid, positiveInteger, time, tlv } from './client-cert-der.ts';
import { createCertAuthority, identityFromClientCert, issueClientCert, OID_GATEHOUSE_LOGINS } from './x509.ts';

type X509Key = x509.X509CertificateCreateWithKeyParams['signingKey'];
const subtle = webcrypto.subtle;

/** The element at `index` of a DER SEQUENCE, whole (header and value). */
function element(der: Buffer, index: number): Buffer {
  const headerLength = (at: number) => (der[at + 1]! < 0x80 ? 2 : 2 + (der[at + 1]! & 0x7f));
  const valueLength = (at: number) => {
    const first = der[at + 1]!;
    if (first < 0x80) return first;
    return der.subarray(at + 2, at + 2 + (first & 0x7f)).reduce((n, b) => n * 256 + b, 0);
  };
  let at = headerLength(0);
  for (let i = 0; i < index; i++) at += headerLength(at) + valueLength(at);
  return der.subarray(at, at + headerLength(at) + valueLength(at));
}

/** A client certificate as @peculiar/x509's builder made it before (x509.ts until issue 16's third pass). */
async function peculiarClientCert(
  ca: { certPem: string; keyPem: string },
  serialHex: string,
  p: { publicKey: KeyObject; notBefore: Date; notAfter: Date; user: string; roles: string[]; logins: string[] },
  device?: DeviceFields,
  route?: Array<[string, string]>,
): Promise<Buffer> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const { createPrivateKey } = await import('node:crypto');
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const signingKey = await subtle.importKey(
    'pkcs8',
    createPrivateKey(ca.keyPem).export({ format: 'der', type: 'pkcs8' }),
    alg,
    false,
    ['sign'],
  );
  const publicKey = await subtle.importKey('spki', p.publicKey.export({ format: 'der', type: 'spki' }), alg, true, [
    'verify',
  ]);
  const subject: x509.JsonName = [{ CN: [p.user] }];
  if (p.roles.length > 0) subject.push({ O: p.roles });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex,
    subject,
    issuer: caCert.subject,
    publicKey: publicKey as unknown as X509Key,
    signingKey: signingKey as unknown as X509Key,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      new x509.Extension(OID_GATEHOUSE_LOGINS, false, Buffer.from(JSON.stringify(p.logins))),
      ...(device
        ? Object.entries(X509_DEVICE_OIDS).map(
            ([f, id]) => new x509.Extension(id, false, Buffer.from(device[f as keyof DeviceFields], 'utf8')),
          )
        : []),
      ...(route ?? []).map(([id, v]) => new x509.Extension(id, false, Buffer.from(v, 'utf8'))),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return Buffer.from(cert.rawData);
}

const serialOf = (der: Buffer) => element(element(der, 0), 1);

test('the DER encoder writes the same to-be-signed bytes @peculiar/x509 wrote, across the variable fields', async () => {
  const ca = await createCertAuthority('Gatehouse user CA', 'clu');
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const long = 'x'.repeat(300); // a value past the one- and two-byte length forms
  const cases = [
    { user: 'alice', roles: ['access', 'editor'], logins: ['alice', 'root'], notAfter: new Date(Date.UTC(2027, 0, 2)) },
    { user: 'b_ob', roles: ['zeta', 'alpha'], logins: [], notAfter: new Date(Date.UTC(2060, 5, 1, 12, 30, 15)) },
    { user: 'carol', roles: [], logins: [long], notAfter: new Date(Date.UTC(2049, 11, 31, 23, 59, 59)) },
    { user: 'dé', roles: ['r'], logins: ['x'], notAfter: new Date(Date.UTC(2050, 0, 1)) },
  ];
  const device = { deviceId: 'dev-1', assetTag: 'ASSET_1', credentialId: 'cred-ü' };
  for (const c of cases) {
    for (const withDevice of [false, true]) {
      const params = { ca, publicKey, notBefore: new Date(Date.UTC(2026, 11, 7, 20, 0, 0, 456)), ...c };
      const ours = new NodeX509(await issueClientCert({ ...params, ...(withDevice ? { device } : {}) })).raw;
      const serialHex = Buffer.from(serialOf(ours).subarray(2)).toString('hex');
      const theirs = await peculiarClientCert(ca, serialHex, params, withDevice ? device : undefined);
      assert.deepEqual(
        element(ours, 0),
        element(theirs, 0),
        `TBS differs for ${JSON.stringify(c.user)}, device ${withDevice}`,
      );
      assert.deepEqual(element(ours, 1), element(theirs, 1));
    }
  }
  // A route certificate (route-certs.ts), its fields after the logins.
  const { OID_ROUTE_KIND, OID_ROUTE_NAME } = await import('../../src-shared/cert-fields.ts');
  const params = {
    ca,
    publicKey,
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 3600_000),
    user: 'u',
    roles: ['a'],
    logins: ['u'],
  };
  const ours = new NodeX509(await issueClientCert({ ...params, route: { kind: 'db', name: 'orders' } })).raw;
  const theirs = await peculiarClientCert(
    ca,
    Buffer.from(serialOf(ours).subarray(2)).toString('hex'),
    params,
    undefined,
    [
      [OID_ROUTE_KIND, 'db'],
      [OID_ROUTE_NAME, 'orders'],
    ],
  );
  assert.deepEqual(element(ours, 0), element(theirs, 0));
});

test('an issued certificate verifies against its CA with node:crypto and reads back through @peculiar/x509', async () => {
  const ca = await createCertAuthority('Gatehouse user CA', 'clu');
  const other = await createCertAuthority('Gatehouse user CA', 'clu');
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Math.floor((Date.now() + 3600_000) / 1000) * 1000);
  const device = { deviceId: 'dev-1', assetTag: 'A1', credentialId: 'c1' };
  const pem = await issueClientCert({
    ca,
    publicKey,
    notBefore,
    notAfter,
    user: 'alice',
    roles: ['access'],
    logins: ['alice'],
    device,
  });
  const cert = new NodeX509(pem);
  const caCert = new NodeX509(ca.certPem);
  assert.ok(cert.verify(caCert.publicKey));
  assert.equal(cert.verify(new NodeX509(other.certPem).publicKey), false);
  assert.ok(cert.checkIssued(caCert));
  assert.equal(cert.ca, false);
  assert.ok(cert.publicKey.equals(publicKey));
  assert.equal(new Date(cert.validTo).getTime(), notAfter.getTime());
  const parsed = new x509.X509Certificate(pem);
  assert.ok(await parsed.verify({ publicKey: new x509.X509Certificate(ca.certPem).publicKey }));
  assert.equal(parsed.getExtension(x509.BasicConstraintsExtension)?.critical, true);
  assert.equal(parsed.getExtension(x509.BasicConstraintsExtension)?.ca, false);
  assert.equal(parsed.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature);
  assert.deepEqual(
    [...(parsed.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])],
    [x509.ExtendedKeyUsage.clientAuth],
  );
  const id = identityFromClientCert(cert.raw);
  assert.deepEqual(
    { user: id.user, roles: id.roles, logins: id.logins, device: id.device },
    { user: 'alice', roles: ['access'], logins: ['alice'], device },
  );
  assert.match(
    pem,
    /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----$/,
  );
});

test('serial numbers are positive 16-byte integers, fresh per certificate', async () => {
  const ca = await createCertAuthority('Gatehouse user CA', 'clu');
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const p = {
    ca,
    publicKey,
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 60_000),
    user: 'a',
    roles: [],
    logins: [],
  };
  const a = new NodeX509(await issueClientCert(p));
  const b = new NodeX509(await issueClientCert(p));
  assert.notEqual(a.serialNumber, b.serialNumber);
  assert.deepEqual(positiveInteger(Buffer.from([0x80, 1])), Buffer.from([2, 3, 0, 0x80, 1]));
  assert.deepEqual(positiveInteger(Buffer.from([0, 0, 0x7f])), Buffer.from([2, 1, 0x7f]));
  assert.deepEqual(positiveInteger(Buffer.from([0, 0])), Buffer.from([2, 1, 0]));
  assert.deepEqual(positiveInteger(randomBytes(16)).length <= 19, true);
});

test('a key other than ECDSA P-256 gets no client certificate', async () => {
  const ca = await createCertAuthority('Gatehouse user CA', 'clu');
  const p = { ca, notBefore: new Date(), notAfter: new Date(Date.now() + 60_000), user: 'a', roles: [], logins: [] };
  for (const publicKey of [
    generateKeyPairSync('ed25519').publicKey,
    generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey,
  ]) {
    await assert.rejects(issueClientCert({ ...p, publicKey }), /ECDSA P-256/);
  }
});

test('DER primitives: lengths, OIDs and times as X.690 and RFC 5280 spell them', () => {
  assert.deepEqual(tlv(0x04, Buffer.alloc(127)).subarray(0, 2), Buffer.from([0x04, 127]));
  assert.deepEqual(tlv(0x04, Buffer.alloc(128)).subarray(0, 3), Buffer.from([0x04, 0x81, 128]));
  assert.deepEqual(tlv(0x04, Buffer.alloc(300)).subarray(0, 4), Buffer.from([0x04, 0x82, 1, 44]));
  assert.throws(() => tlv(0x04, Buffer.alloc(70_000)), RangeError);
  assert.deepEqual(oid('1.2.840.10045.4.3.2'), Buffer.from('06082a8648ce3d040302', 'hex'));
  assert.deepEqual(oid('1.3.6.1.4.1.59999.1.1'), Buffer.from('060a2b0601040183d45f0101', 'hex'));
  assert.throws(() => oid('1.x'), RangeError);
  assert.throws(() => oid('3.1'), RangeError);
  assert.equal(time(new Date(Date.UTC(2026, 11, 7, 20, 1, 2, 999))).toString('latin1', 2), '261207200102Z');
  assert.equal(time(new Date(Date.UTC(2050, 0, 1))).toString('latin1', 2), '20500101000000Z');
  assert.equal(time(new Date(Date.UTC(2050, 0, 1)))[0], 0x18);
  assert.throws(() => time(new Date(Date.UTC(1949, 0, 1))), RangeError);
});
