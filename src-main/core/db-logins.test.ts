// Stored db logins: saved next to the login, reused only while unexpired and for the same key,
// listed and removed one by one or all at once; names that could escape the directory refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, makeLeaf } from '../../test-support/test-pki.ts';
import { DbLogins, dbLoginRequest } from './db-logins.ts';
import { generateClientKey } from './keys.ts';
import { ProfileStore, type Profile } from './profiles.ts';

test('a db login is stored with its certificate and reused only while valid and for the same key', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'gh-dblogins-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const profiles = new ProfileStore(home);
  const logins = new DbLogins(profiles);
  const profile = { proxy: 'proxy.example:3080', user: 'alice' } as Profile;
  const key = generateClientKey();
  const ca = await makeCa('user CA');
  const cert = await makeLeaf(ca, { cn: 'alice', client: true, keyPem: key.privateKeyPem });
  const now = new Date();
  const issued = { certPem: cert.certPem, issuedAt: now, expiresAt: new Date(now.getTime() + 3600_000) };

  logins.save(profile, { name: 'orders', protocol: 'postgres', dbUser: 'alice', dbName: 'sales' }, issued);
  const dir = join(profiles.paths(profile.proxy, profile.user).dir, 'db');
  assert.equal(statSync(join(dir, 'orders.crt')).mode & 0o777, 0o600);
  assert.equal(readFileSync(join(dir, 'orders.crt'), 'utf8'), cert.certPem);

  const loaded = logins.load(profile, key, 'orders', now);
  assert.equal(loaded?.protocol, 'postgres');
  assert.equal(loaded?.certificate.certPem, cert.certPem);
  assert.deepEqual(dbLoginRequest(loaded!), { kind: 'db', name: 'orders', dbUser: 'alice', dbName: 'sales' });
  assert.equal(logins.load(profile, generateClientKey(), 'orders', now), undefined, 'another login key');
  assert.equal(logins.load(profile, key, 'orders', new Date(now.getTime() + 3600_000)), undefined, 'expired');
  assert.equal(logins.load(profile, key, 'missing', now), undefined);

  logins.save(profile, { name: 'hr', protocol: 'mysql' }, issued);
  assert.deepEqual(logins.list(profile), ['hr', 'orders']);
  assert.deepEqual(logins.remove(profile, 'orders'), ['orders']);
  assert.deepEqual(logins.remove(profile, 'orders'), []);
  assert.deepEqual(logins.remove(profile), ['hr']);
  assert.deepEqual(logins.list(profile), []);
  assert.throws(() => logins.load(profile, key, '../profile', now), /not a database name/);
});
