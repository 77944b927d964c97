import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { SqliteBackend } from '../storage/sqlite.ts';
import { createMemoryLogger } from '../log/logger.ts';
import { CA_TYPES, loadOrCreateAuthorities } from './authorities.ts';

const backends: SqliteBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

async function backend(): Promise<SqliteBackend> {
  const b = await SqliteBackend.open({ path: ':memory:' });
  backends.push(b);
  return b;
}

test('a fresh cluster gets every CA, the database CA an X.509 CA of its own', async () => {
  const b = await backend();
  const cas = await loadOrCreateAuthorities(b, 'c1', createMemoryLogger());
  for (const type of CA_TYPES) assert.ok(await b.get(`/authorities/${type}`), type);
  const db = new X509Certificate(cas.tlsDb.material.certPem);
  assert.equal(db.ca, true);
  assert.match(db.subject, /CN=Gatehouse database CA \(c1\)/);
  assert.notEqual(cas.tlsDb.fingerprint, cas.tlsUser.fingerprint);
  assert.notEqual(cas.tlsDb.fingerprint, cas.tlsHost.fingerprint);
  // A restart loads the same CAs, never new ones.
  const again = await loadOrCreateAuthorities(b, 'c1', createMemoryLogger());
  assert.equal(again.tlsDb.fingerprint, cas.tlsDb.fingerprint);
});

test('an existing data dir without the database CA gets one on start; its other CAs are kept', async () => {
  const b = await backend();
  const before = await loadOrCreateAuthorities(b, 'old', createMemoryLogger());
  // What a data dir written before the database CA existed looks like.
  await b.delete('/authorities/tls_db');
  const kept = Object.fromEntries(
    await Promise.all(
      ['ssh_user', 'ssh_host', 'tls_user', 'tls_host'].map(async (t) => [t, (await b.get(`/authorities/${t}`))?.value]),
    ),
  );
  const log = createMemoryLogger();
  const after = await loadOrCreateAuthorities(b, 'old', log);
  assert.notEqual(after.tlsDb.fingerprint, before.tlsDb.fingerprint);
  assert.equal(after.tlsUser.fingerprint, before.tlsUser.fingerprint);
  assert.equal(after.sshUser.authorizedKey, before.sshUser.authorizedKey);
  for (const [t, value] of Object.entries(kept)) assert.equal((await b.get(`/authorities/${t}`))?.value, value, t);
  assert.ok(log.lines.some((l) => l.includes('created certificate authority') && l.includes('tls_db')));
});

test('the JWT signing key is an ECDSA P-256 key, kept across restarts and added to an old data dir', async () => {
  const b = await backend();
  const first = await loadOrCreateAuthorities(b, 'c1', createMemoryLogger());
  assert.equal(first.jwt.privateKey.asymmetricKeyType, 'ec');
  assert.equal(first.jwt.privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const pem = (k: typeof first) => k.jwt.publicKey.export({ format: 'pem', type: 'spki' });
  assert.equal(pem(await loadOrCreateAuthorities(b, 'c1', createMemoryLogger())), pem(first));
  // What a data dir written before the JWT key existed looks like: every CA, no jwt.
  await b.delete('/authorities/jwt');
  const tlsDb = (await b.get('/authorities/tls_db'))?.value;
  const log = createMemoryLogger();
  const upgraded = await loadOrCreateAuthorities(b, 'c1', log);
  assert.notEqual(pem(upgraded), pem(first));
  assert.equal(upgraded.tlsDb.fingerprint, first.tlsDb.fingerprint);
  assert.equal((await b.get('/authorities/tls_db'))?.value, tlsDb);
  assert.ok(log.lines.some((l) => l.includes('created certificate authority') && l.includes('jwt')));
});
