// Stored app logins: saved beside the login key with the proxy CA for curl, reused only while
// unexpired and for the same key, listed and removed one by one or all at once (the CA copy
// with the last); names that could escape the directory refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeCa, makeLeaf } from '../../test-support/test-pki.ts';
import { AppLogins, appLoginRequest } from './app-logins.ts';
import { generateClientKey } from './keys.ts';
import { ProfileStore, type Profile } from './profiles.ts';

test('an app login is stored beside the login key and reused only while valid and for the same key', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'gh-applogins-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const profiles = new ProfileStore(home);
  const logins = new AppLogins(profiles);
  const profile = { proxy: 'proxy.example:3080', user: 'alice' } as Profile;
  const key = generateClientKey();
  const ca = await makeCa('user CA');
  const cert = await makeLeaf(ca, { cn: 'alice', client: true, keyPem: key.privateKeyPem });
  const now = new Date();
  const issued = { certPem: cert.certPem, issuedAt: now, expiresAt: new Date(now.getTime() + 3600_000) };

  const paths = logins.save(profile, { name: 'grafana', kind: 'http', uri: 'http://127.0.0.1:3000' }, issued, 'CA PEM');
  const profileDir = profiles.paths(profile.proxy, profile.user).dir;
  assert.equal(paths.cert, join(profileDir, 'app', 'grafana.crt'));
  assert.equal(dirname(paths.key), profileDir, 'the key is the login key, not a copy');
  assert.equal(statSync(paths.cert).mode & 0o777, 0o600);
  assert.equal(readFileSync(paths.cert, 'utf8'), cert.certPem);
  assert.equal(readFileSync(paths.cacert, 'utf8'), 'CA PEM');

  const loaded = logins.load(profile, key, 'grafana', now);
  assert.equal(loaded?.kind, 'http');
  assert.equal(loaded?.certificate.certPem, cert.certPem);
  assert.deepEqual(appLoginRequest('grafana'), { kind: 'app', name: 'grafana' });
  assert.equal(logins.load(profile, generateClientKey(), 'grafana', now), undefined, 'another login key');
  assert.equal(logins.load(profile, key, 'grafana', new Date(now.getTime() + 3600_000)), undefined, 'expired');
  assert.equal(logins.load(profile, key, 'missing', now), undefined);

  logins.save(profile, { name: 'redis', kind: 'tcp', uri: 'tcp://127.0.0.1:6379' }, issued, 'CA PEM');
  assert.deepEqual(logins.list(profile), ['grafana', 'redis']);
  assert.deepEqual(logins.remove(profile, 'grafana'), ['grafana']);
  assert.ok(existsSync(paths.cacert), 'the CA copy stays while an app login uses it');
  assert.deepEqual(logins.remove(profile), ['redis']);
  assert.equal(existsSync(paths.cacert), false);
  assert.deepEqual(logins.remove(profile, 'grafana'), []);
  assert.throws(() => logins.paths(profile, '../../key'), /is not an app name/);
});
