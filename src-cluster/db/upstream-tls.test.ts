// The db service's client certificates for database users: one signing per db user until two
// thirds of the certificate's life, a still-valid one kept when auth is away at renewal, and the
// TLS options naming the database's own CA and server name when the resource gives them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { DbClientCerts } from './upstream-tls.ts';
import { fakeDbCertSigner, makeDbTestPki } from './test-support/db-pki.ts';

test('one certificate per db user, reused until 2/3 of its life, CN = the db user', async () => {
  const pki = await makeDbTestPki();
  const signer = fakeDbCertSigner(pki.dbCa);
  let now = Date.now();
  const certs = new DbClientCerts(
    () => signer,
    () => now,
  );
  const db = { name: 'orders', uri: 'db1.internal:5432' };
  const first = await certs.upstreamFor(db, 'alice', 1000);
  await certs.upstreamFor(db, 'alice', 1000);
  await certs.upstreamFor(db, 'bob', 1000);
  assert.deepEqual(signer.calls, ['alice', 'bob']);
  assert.match(new X509Certificate(String(first.tls.cert)).subject, /CN=alice/);
  assert.deepEqual(first.tls.ca, [pki.dbCa.certPem], 'default trust: the cluster database CA');
  assert.equal(first.tls.servername, 'db1.internal');
  assert.deepEqual([first.host, first.port], ['db1.internal', 5432]);
  now += 41 * 60_000; // past 2/3 of 1 h
  await certs.upstreamFor(db, 'alice', 1000);
  assert.deepEqual(signer.calls, ['alice', 'bob', 'alice']);
});

test('auth away at renewal: the still-valid certificate is kept; with none, DB_UNREACHABLE names the database', async () => {
  const pki = await makeDbTestPki();
  const real = fakeDbCertSigner(pki.dbCa);
  let down = false;
  let now = Date.now();
  const signer = {
    signDatabaseClientCertificate: async (
      req: { tlsPublicKeyPem: string; dbUser: string },
      o: { timeoutMs: number },
    ) => {
      if (down) throw new Error('auth is unreachable');
      return real.signDatabaseClientCertificate(req, o);
    },
  };
  const certs = new DbClientCerts(
    () => signer,
    () => now,
  );
  const db = { name: 'orders', uri: '10.0.0.5:5432', tls: { ca_cert: 'PEM', server_name: 'pg.internal' } };
  const first = await certs.upstreamFor(db, 'alice', 1000);
  assert.deepEqual(first.tls.ca, ['PEM'], 'spec.tls.ca_cert wins over the database CA');
  assert.equal(first.tls.servername, 'pg.internal');
  down = true;
  now += 45 * 60_000;
  assert.equal((await certs.upstreamFor(db, 'alice', 1000)).tls.cert, first.tls.cert);
  await assert.rejects(certs.upstreamFor(db, 'carol', 1000), (e: GatehouseError) => {
    assert.equal(e.code, ErrorCode.DB_UNREACHABLE);
    assert.match(
      e.message,
      /database "orders": cannot get a client certificate for db user "carol" from auth: auth is unreachable/,
    );
    return true;
  });
});
