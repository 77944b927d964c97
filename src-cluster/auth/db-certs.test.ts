import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { SqliteBackend } from '../storage/sqlite.ts';
import { createMemoryLogger } from '../log/logger.ts';
import { loadOrCreateAuthorities } from './authorities.ts';
import {
  DB_SERVER_CERT_MAX_HOSTS,
  issueDatabaseClientCert,
  issueDatabaseServerCert,
  parseP256PublicKey,
  splitHosts,
} from './db-certs.ts';

const backends: SqliteBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

async function cas() {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  backends.push(backend);
  return loadOrCreateAuthorities(backend, 'test', createMemoryLogger());
}

const DAY = 24 * 3600_000;
const key = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;

test('a database server certificate: database CA, every host a SAN, serverAuth, 90 days by default', async () => {
  const { tlsDb, tlsUser } = await cas();
  const now = Date.now();
  const issued = await issueDatabaseServerCert(tlsDb, key(), ['db1.internal', '127.0.0.1', '[::1]'], 0, now);
  const cert = new X509Certificate(issued.certPem);
  assert.ok(cert.checkIssued(new X509Certificate(tlsDb.material.certPem)));
  assert.ok(cert.verify(new X509Certificate(tlsDb.material.certPem).publicKey));
  assert.equal(cert.verify(new X509Certificate(tlsUser.material.certPem).publicKey), false);
  assert.equal(cert.subject, 'CN=db1.internal');
  assert.equal(cert.checkHost('db1.internal'), 'db1.internal');
  assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(cert.checkIP('::1'), '::1');
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.equal(Math.round((issued.expires.getTime() - now) / DAY), 90);
  const year = await issueDatabaseServerCert(tlsDb, key(), ['db1'], 365 * DAY, now);
  assert.equal(Math.round((year.expires.getTime() - now) / DAY), 365);
  await assert.rejects(
    issueDatabaseServerCert(tlsDb, key(), ['db1'], 366 * DAY, now),
    /longer than the maximum of 1 year/,
  );
  await assert.rejects(issueDatabaseServerCert(tlsDb, key(), [], 0, now), /at least one host/);
  await assert.rejects(issueDatabaseServerCert(tlsDb, key(), ['bad host'], 0, now), /neither a DNS name nor an IP/);
});

test('hosts are split into DNS names and IPs, deduplicated and bounded', () => {
  assert.deepEqual(splitHosts(['a.example', ' 10.0.0.1 ', 'a.example', '*.db.example']), {
    dnsNames: ['a.example', '*.db.example'],
    ips: ['10.0.0.1'],
  });
  const many = Array.from({ length: DB_SERVER_CERT_MAX_HOSTS + 1 }, (_, i) => `h${i}`);
  assert.throws(() => splitHosts(many), /at most 32 hosts/);
  assert.throws(() => splitHosts(['-bad.example']), /neither a DNS name/);
});

test('a db client certificate names the db user as CN, clientAuth, one hour', async () => {
  const { tlsDb } = await cas();
  const now = Date.now();
  const issued = await issueDatabaseClientCert(tlsDb, key(), 'alice', now);
  const cert = new X509Certificate(issued.certPem);
  assert.equal(cert.subject, 'CN=alice');
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.ok(cert.verify(new X509Certificate(tlsDb.material.certPem).publicKey));
  assert.ok(Math.abs(issued.expires.getTime() - (now + 3600_000)) < 1000);
  await assert.rejects(issueDatabaseClientCert(tlsDb, key(), '', now), /db_user is required/);
  await assert.rejects(issueDatabaseClientCert(tlsDb, key(), 'a/b', now), /not a valid database user/);
});

test('only ECDSA P-256 public keys are signed', () => {
  assert.equal(parseP256PublicKey(key().export({ format: 'pem', type: 'spki' }) as string).asymmetricKeyType, 'ec');
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'pem', type: 'spki' });
  assert.throws(() => parseP256PublicKey(p384 as string), /must be an ECDSA P-256 key \(got ec secp384r1\)/);
  assert.throws(() => parseP256PublicKey(''), /tls_public_key_pem is required/);
  assert.throws(() => parseP256PublicKey('x'.repeat(5000)), /longer than 4096/);
});
