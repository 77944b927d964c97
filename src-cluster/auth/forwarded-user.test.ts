import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { DerMemo } from './der-memo.ts';
import { forwardedUserIdentity, MAX_USER_CERT_PEM_CHARS } from './forwarded-user.ts';
import { createCertAuthority, identityFromClientCert, issueClientCert } from './x509.ts';

const NOW = Date.now();

async function userCert(ca: Awaited<ReturnType<typeof createCertAuthority>>, notAfter = NOW + 3600_000) {
  return issueClientCert({
    ca,
    publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
    notBefore: new Date(NOW - 60_000),
    notAfter: new Date(notAfter),
    user: 'alice',
    roles: ['apps'],
    logins: [],
  });
}

const code = (c: string) => (e: unknown) => e instanceof GatehouseError && e.code === c;

test('a forwarded certificate yields its identity only when the user CA issued it and it is valid now', async () => {
  const ca = await createCertAuthority('user CA', 'c1');
  const other = await createCertAuthority('other CA', 'c2');
  const pem = await userCert(ca);
  const memo = new DerMemo(identityFromClientCert);
  assert.equal(forwardedUserIdentity(pem, [ca.certPem], NOW).user, 'alice');
  assert.deepEqual(forwardedUserIdentity(pem, [other.certPem, ca.certPem], NOW, memo).roles, ['apps']);
  assert.throws(() => forwardedUserIdentity(pem, [other.certPem], NOW), code(ErrorCode.CERT_INVALID));
  assert.throws(() => forwardedUserIdentity(pem, [ca.certPem], NOW + 2 * 3600_000), code(ErrorCode.CERT_EXPIRED));
  assert.throws(() => forwardedUserIdentity('garbage', [ca.certPem], NOW), code(ErrorCode.BAD_REQUEST));
  assert.throws(
    () => forwardedUserIdentity('x'.repeat(MAX_USER_CERT_PEM_CHARS + 1), [ca.certPem], NOW),
    /longer than 16384 characters/,
  );
});
