import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteBackend } from '../storage/sqlite.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import {
  DEFAULT_JOIN_TOKEN_TTL_MS,
  JoinRefusedError,
  JoinTokenStore,
  MAX_JOIN_TOKEN_TTL_MS,
  joinTokenHash,
  type JoinRefusal,
} from './join-tokens.ts';

async function open(clock = { now: Date.now() }) {
  const backend = await SqliteBackend.open({ path: ':memory:', now: () => clock.now });
  return { backend, store: new JoinTokenStore(backend, () => clock.now), clock };
}

async function refusal(p: Promise<unknown>): Promise<JoinRefusal> {
  const e = await p.then(
    () => assert.fail('expected a refusal'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof JoinRefusedError, String(e));
  assert.equal(e.code, ErrorCode.BAD_CREDENTIALS);
  return e.reason;
}

test('a token is stored only as its hash, listed without the secret, and removed by id', async () => {
  const { backend, store, clock } = await open();
  const { token, record } = await store.create({ roles: ['node', 'proxy'], createdBy: 'admin' });
  assert.ok(Buffer.from(token, 'base64url').length >= 16, 'at least 128 bits of secret');
  assert.equal(Date.parse(record.expires) - clock.now, DEFAULT_JOIN_TOKEN_TTL_MS);
  assert.equal(record.single_use, true);
  const stored = await backend.listPrefix('/join_tokens/');
  assert.equal(stored.length, 1);
  assert.equal(stored[0]!.key, `/join_tokens/${joinTokenHash(token)}`);
  assert.ok(!stored[0]!.value.includes(token), 'the secret itself is never stored');
  assert.deepEqual(
    (await store.list()).map((r) => [r.id, r.roles, r.created_by]),
    [[record.id, ['node', 'proxy'], 'admin']],
  );
  await store.delete(record.id);
  assert.deepEqual(await store.list(), []);
  assert.equal(await refusal(store.spend(token, 'node')), 'unknown_token');
  await assert.rejects(store.delete(record.id), { code: ErrorCode.NOT_FOUND });
  await backend.close();
});

test('bad roles and TTLs outside the bounds are refused with a clear error', async () => {
  const { backend, store } = await open();
  await assert.rejects(store.create({ roles: [], createdBy: 'a' }), /at least one role/);
  await assert.rejects(store.create({ roles: ['kube'], createdBy: 'a' }), /unknown service role "kube"/);
  await assert.rejects(store.create({ roles: ['node'], ttlMs: MAX_JOIN_TOKEN_TTL_MS + 1, createdBy: 'a' }), /TTL/);
  await assert.rejects(store.create({ roles: ['node'], ttlMs: 10, createdBy: 'a' }), /TTL/);
  await backend.close();
});

test('each refusal has its own reason: unknown, expired, already used, wrong role', async () => {
  const { backend, store, clock } = await open();
  assert.equal(await refusal(store.spend('no-such-token', 'node')), 'unknown_token');
  const single = await store.create({ roles: ['node'], createdBy: 'a' });
  assert.equal(await refusal(store.spend(single.token, 'proxy')), 'role_not_allowed');
  const spent = await store.spend(single.token, 'node');
  assert.equal(spent.uses, 1);
  assert.equal(await refusal(store.spend(single.token, 'node')), 'token_already_used');
  assert.deepEqual(await store.list(), [], 'a spent single-use token is no longer listed');
  const short = await store.create({ roles: ['node'], ttlMs: 60_000, createdBy: 'a' });
  clock.now += 61_000;
  assert.equal(await refusal(store.spend(short.token, 'node')), 'expired_token');
  await backend.close();
});

test('a multi-use token counts its uses until it expires', async () => {
  const { backend, store, clock } = await open();
  const multi = await store.create({ roles: ['node'], ttlMs: 3600_000, multiUse: true, createdBy: 'a' });
  for (let i = 1; i <= 3; i++) assert.equal((await store.spend(multi.token, 'node')).uses, i);
  assert.equal((await store.list())[0]!.uses, 3);
  clock.now += 3600_001;
  assert.equal(await refusal(store.spend(multi.token, 'node')), 'expired_token');
  await backend.close();
});

test('concurrent joins with one single-use token: exactly one wins', async () => {
  const { backend, store } = await open();
  const { token } = await store.create({ roles: ['node'], createdBy: 'a' });
  const results = await Promise.allSettled(Array.from({ length: 12 }, () => store.spend(token, 'node')));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) {
    if (r.status === 'rejected') assert.equal((r.reason as JoinRefusedError).reason, 'token_already_used');
  }
  await backend.close();
});
