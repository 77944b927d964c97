// Issue 11, finding 17 (cluster half): the previous admin identity kept working for its 30 days
// after the daemon wrote a new one. With the real daemon: a copy of the old admin-identity.json is
// refused with the reason once the daemon restarted and wrote a new one, the new one works, and
// the refusal is in the audit log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterProcess } from '../../test-support/cluster-process.ts';

describe('only the newest admin identity works', () => {
  const cluster = new ClusterProcess();
  const identity = () => join(cluster.dataDir, 'admin-identity.json');
  const oldCopy = () => join(cluster.dir, 'old-admin-identity.json');
  before(() => cluster.start());
  after(() => cluster.destroy());

  test('a copy of the identity works until the daemon writes a new one, then is refused with the reason', async () => {
    copyFileSync(identity(), oldCopy());
    const before = cluster.gatectl(['users', 'ls', '--identity', oldCopy()]);
    assert.equal(before.status, 0, before.stderr);

    await cluster.stop();
    await cluster.start(); // same data dir: same CAs, a new admin identity
    const oldCert = JSON.parse(readFileSync(oldCopy(), 'utf8')).tls_cert_pem;
    assert.notEqual(JSON.parse(readFileSync(identity(), 'utf8')).tls_cert_pem, oldCert, 'a new identity was written');

    const refused = cluster.gatectl(['users', 'ls', '--identity', oldCopy()]);
    assert.notEqual(refused.status, 0, refused.stdout);
    assert.match(
      refused.stderr,
      /this admin identity was replaced when the daemon wrote a new one at \d{4}-\d\d-\d\dT[\d:.]+Z \(.*admin-identity\.json\) and no longer works; use the current admin-identity\.json from the data dir/,
    );
    const current = cluster.gatectl(['users', 'ls', '--identity', identity()]);
    assert.equal(current.status, 0, current.stderr);
  });

  test('the refusal is in the audit log', () => {
    const r = cluster.gatectl(['audit', '--type', 'access.denied', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /admin_identity_replaced/);
    assert.match(r.stdout, /this admin identity was replaced/);
  });
});
