// The JWT cache: one signing call per (certificate, app) while the token is in the first 80% of
// its life, concurrent misses sharing that call, a fresh token after, and a bounded size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, SignJWT } from 'jose';
import { AppTokenCache, refreshTimeOf } from './app-token-cache.ts';

const { privateKey } = await generateKeyPair('ES256');

function token(iatS: number, ttlS: number): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuedAt(iatS)
    .setExpirationTime(iatS + ttlS)
    .sign(privateKey);
}

test('refresh at 80% of the life', async () => {
  assert.equal(refreshTimeOf(await token(1000, 600), 0), 1000_000 + 480_000);
  assert.throws(() => refreshTimeOf('not a jwt', 0), /does not parse/);
});

test('concurrent misses share one call; a hit until 80%; then signed again', async () => {
  const now = { t: 2_000_000 };
  let calls = 0;
  const cache = new AppTokenCache(
    async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return token(now.t / 1000, 600);
    },
    10,
    () => now.t,
  );
  const six = await Promise.all(Array.from({ length: 6 }, () => cache.get('cert1', 'pem', 'grafana')));
  assert.equal(calls, 1);
  assert.ok(six.every((t) => t.token === six[0]!.token));
  now.t += 479_000;
  await cache.get('cert1', 'pem', 'grafana');
  assert.equal(calls, 1);
  now.t += 2_000;
  await cache.get('cert1', 'pem', 'grafana');
  assert.equal(calls, 2);
  await cache.get('cert1', 'pem', 'other-app');
  assert.equal(calls, 3, 'one token per app');
});

test('bounded: the least recently used goes first', async () => {
  let calls = 0;
  const cache = new AppTokenCache(async () => (calls++, token(Math.floor(Date.now() / 1000), 600)), 3);
  for (const k of ['a', 'b', 'c']) await cache.get(k, 'pem', 'app');
  await cache.get('a', 'pem', 'app'); // a is now the most recent
  await cache.get('d', 'pem', 'app'); // evicts b
  assert.equal(cache.size, 3);
  const before = calls;
  await cache.get('a', 'pem', 'app');
  assert.equal(calls, before);
  await cache.get('b', 'pem', 'app');
  assert.equal(calls, before + 1);
});

test('a failed signing call is not cached', async () => {
  let fail = true;
  const cache = new AppTokenCache(async () => {
    if (fail) throw new Error('auth away');
    return token(Math.floor(Date.now() / 1000), 600);
  });
  await assert.rejects(cache.get('a', 'pem', 'app'), /auth away/);
  fail = false;
  assert.ok((await cache.get('a', 'pem', 'app')).token);
});
