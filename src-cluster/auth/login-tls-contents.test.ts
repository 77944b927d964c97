// A login's device challenge is prepared from what the login signed (IssuedCerts.tlsContents)
// instead of parsing the certificate again: that is only sound if those contents are exactly
// what a parse of the certificate gives. Checked on a real AuthServer over SQLite.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { openAuthFixture, type AuthFixture } from './security/auth-fixture.ts';
import { checkPresentedCerts } from './device-certs.ts';
import { clientCertContents } from './x509.ts';

const PASSWORD = 'a long enough password 1';
const open: AuthFixture[] = [];
after(async () => {
  for (const fx of open.splice(0)) await fx.close().catch(() => undefined);
});

test('a login reports what its X.509 certificate certifies exactly as a parse of it reads', async () => {
  const fx = await openAuthFixture();
  open.push(fx);
  await fx.addUser('carol', PASSWORD);
  const certs = await fx.auth.login(fx.loginInput('carol', PASSWORD));
  const parsed = clientCertContents(certs.tlsCertificate);
  const { publicKey: issuedKey, ...issued } = certs.tlsContents;
  const { publicKey: parsedKey, ...read } = parsed;
  assert.deepEqual(issued, read);
  assert.ok(issuedKey.equals(parsedKey));

  const presented = { sshCertificate: certs.sshCertificate, tlsCertificatePem: certs.tlsCertificate };
  const connection = { user: 'carol', certDer: new X509Certificate(certs.tlsCertificate).raw };
  const withContents = checkPresentedCerts(fx.auth.cas, presented, connection, new Date(), certs.tlsContents);
  const byParse = checkPresentedCerts(fx.auth.cas, presented, connection, new Date());
  assert.deepEqual(withContents.ssh, byParse.ssh);
  assert.equal(withContents.tls, certs.tlsContents);
  // The contents do not bypass the checks: another user's call is still refused.
  assert.throws(
    () =>
      checkPresentedCerts(fx.auth.cas, presented, { ...connection, user: 'mallory' }, new Date(), certs.tlsContents),
    /not to the caller/,
  );
});
