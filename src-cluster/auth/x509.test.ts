import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { createCertAuthority, issueClientCert, issueServerCert, identityFromClientCert } from './x509.ts';

test('client certificate carries user, roles and logins and verifies against its CA only', async () => {
  const ca = await createCertAuthority('user CA', 'test');
  const other = await createCertAuthority('user CA', 'other');
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = new Date();
  const pem = await issueClientCert({
    ca,
    publicKey,
    notBefore: now,
    notAfter: new Date(now.getTime() + 3600_000),
    user: 'alice',
    roles: ['access', 'editor'],
    logins: ['alice', 'root'],
  });
  const cert = new X509Certificate(pem);
  assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));
  assert.equal(cert.verify(new X509Certificate(other.certPem).publicKey), false);
  assert.ok(cert.checkIssued(new X509Certificate(ca.certPem)));
  const id = identityFromClientCert(cert.raw);
  assert.equal(id.user, 'alice');
  assert.deepEqual(id.roles, ['access', 'editor']);
  assert.deepEqual(id.logins, ['alice', 'root']);
  assert.ok(cert.publicKey.equals(publicKey));
});

test('server certificate names its hosts and IPs', async () => {
  const ca = await createCertAuthority('host CA', 'test');
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = new Date();
  const pem = await issueServerCert({
    ca,
    publicKey,
    notBefore: now,
    notAfter: new Date(now.getTime() + 3600_000),
    commonName: 'proxy',
    dnsNames: ['localhost'],
    ips: ['127.0.0.1'],
  });
  const cert = new X509Certificate(pem);
  assert.equal(cert.checkHost('localhost'), 'localhost');
  assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(cert.checkHost('evil.example'), undefined);
  assert.ok(cert.ca === false);
  assert.ok(new X509Certificate(ca.certPem).ca);
});

test('a route certificate carries its route fields; identityFromClientCert reads them back', async () => {
  const ca = await createCertAuthority('user CA', 'test');
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = new Date();
  const issue = (route?: { kind: string; name: string; dbUser?: string; dbName?: string }) =>
    issueClientCert({
      ca,
      publicKey,
      notBefore: now,
      notAfter: new Date(now.getTime() + 3600_000),
      user: 'alice',
      roles: ['access'],
      logins: [],
      ...(route ? { route } : {}),
    });
  const pinned = identityFromClientCert(
    new X509Certificate(await issue({ kind: 'db', name: 'orders', dbUser: 'app', dbName: 'shop' })).raw,
  );
  assert.deepEqual(pinned.route, { kind: 'db', name: 'orders', dbUser: 'app', dbName: 'shop' });
  const open = identityFromClientCert(new X509Certificate(await issue({ kind: 'db', name: 'orders' })).raw);
  assert.deepEqual(open.route, { kind: 'db', name: 'orders' });
  assert.equal(identityFromClientCert(new X509Certificate(await issue()).raw).route, undefined);
});

test('each CA signs with its own key, also when one material object is given another CA in place', async () => {
  const first = await createCertAuthority('user CA', 'one');
  const second = await createCertAuthority('user CA', 'two');
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = new Date();
  const issue = (ca: { certPem: string; keyPem: string }) =>
    issueClientCert({
      ca,
      publicKey,
      notBefore: now,
      notAfter: new Date(now.getTime() + 3600_000),
      user: 'alice',
      roles: [],
      logins: [],
    });
  const signedBy = (pem: string, ca: { certPem: string }) =>
    new X509Certificate(pem).verify(new X509Certificate(ca.certPem).publicKey) &&
    new X509Certificate(pem).checkIssued(new X509Certificate(ca.certPem));
  const material = { ...first };
  assert.ok(signedBy(await issue(material), first));
  assert.ok(signedBy(await issue(second), second));
  assert.ok(signedBy(await issue(material), first), 'the first CA again, from what it kept');
  Object.assign(material, second);
  const rotated = await issue(material);
  assert.ok(signedBy(rotated, second));
  assert.equal(signedBy(rotated, first), false);
});
