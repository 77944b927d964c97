// The demo's whoami app verifies Gatehouse's assertion against a JWKS served over HTTPS by a CA it
// is told to trust, and refuses what does not verify (no header, wrong key, wrong audience).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { makeCa, makeLeaf } from '../../test-support/test-pki.ts';
import { APP_JWT_HEADER, JWKS_PATH } from '../../src-shared/cert-fields.ts';
import { createLogger } from '../log/logger.ts';
import { startDemoWhoamiApp } from './demo-app.ts';

async function jwksServer(jwks: object) {
  const ca = await makeCa('demo-test-ca');
  const leaf = await makeLeaf(ca, { cn: 'proxy', ips: ['127.0.0.1'] });
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    res.writeHead(req.url === JWKS_PATH ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { proxy: `127.0.0.1:${(server.address() as AddressInfo).port}`, caPem: ca.certPem, server };
}

test('shows the verified identity; refuses a missing header, a foreign key and another audience', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const other = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const jwks = await jwksServer({ keys: [jwk] });
  t.after(() => jwks.server.close());
  const app = await startDemoWhoamiApp(createLogger({ level: 'error', format: 'text' }));
  t.after(() => app.close());
  app.trustProxy(jwks.proxy, jwks.caPem, 'demo');

  type SigningKey = Parameters<SignJWT['sign']>[0];
  const sign = (key: SigningKey, aud: string) =>
    new SignJWT({ username: 'demo', roles: ['access'], traits: { logins: ['root'] }, device_trusted: false })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('demo')
      .setAudience(aud)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(key);
  const get = async (token?: string) => {
    const res = await fetch(app.uri + '/', { headers: token ? { [APP_JWT_HEADER]: token } : {} });
    return { status: res.status, text: await res.text() };
  };

  const ok = await get(await sign(privateKey, app.uri));
  assert.equal(ok.status, 200);
  assert.match(ok.text, /<th>user<\/th><td>demo<\/td>/);
  assert.match(ok.text, /<th>trusted device<\/th><td>no<\/td>/);
  assert.equal((await get()).status, 401);
  assert.equal((await get(await sign(other.privateKey, app.uri))).status, 401);
  const wrongAud = await get(await sign(privateKey, 'http://elsewhere'));
  assert.equal(wrongAud.status, 401);
  assert.match(wrongAud.text, /aud/);
});
