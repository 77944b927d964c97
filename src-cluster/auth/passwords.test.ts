import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword, dummyPasswordHash, tokenHash, newToken } from './passwords.ts';

test('scrypt hashes verify only the right password and are salted', async () => {
  const a = await hashPassword('correct horse');
  const b = await hashPassword('correct horse');
  assert.notEqual(a, b);
  assert.match(a, /^scrypt\$32768\$8\$1\$/);
  assert.equal(await verifyPassword('correct horse', a), true);
  assert.equal(await verifyPassword('correct hors', a), false);
  const dummy = await dummyPasswordHash();
  assert.match(dummy, /^scrypt\$32768\$8\$1\$[^$]+\$[^$]+$/, 'the dummy hash has every field of a real one');
  assert.equal(await verifyPassword('anything', dummy), false);
  assert.equal(await verifyPassword('x', 'md5$abc'), false);
});

test('tokens are random and stored as hashes', () => {
  const t = newToken();
  assert.notEqual(t, newToken());
  assert.match(t, /^[0-9a-f]{48}$/, 'safe to pass as a command-line argument');
  assert.equal(tokenHash(t).length, 64);
  assert.notEqual(tokenHash(t), t);
});
