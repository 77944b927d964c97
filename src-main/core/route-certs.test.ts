// The route certificate cache: one issue per route and login, shared by concurrent callers,
// renewed after 2/3 of its life, dropped when the login changes or on logout, bounded in size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Profile } from './profiles.ts';
import { isFresh, RouteCertificates, type RouteCertificateRequest } from './route-certs.ts';

const alice = { proxy: 'proxy.example:3080', user: 'alice' } as Profile;
const HOUR = 3600_000;

function harness(maxEntries?: number) {
  let now = new Date('2026-01-01T00:00:00Z');
  const calls: RouteCertificateRequest[] = [];
  let failWith: Error | undefined;
  const certs = new RouteCertificates({
    clock: () => now,
    ...(maxEntries ? { maxEntries } : {}),
    issue: async (_profile, request) => {
      calls.push(request);
      await new Promise((r) => setTimeout(r, 5));
      if (failWith) throw failWith;
      return { certPem: `cert#${calls.length}`, expiresAt: new Date(now.getTime() + HOUR) };
    },
  });
  return {
    certs,
    calls,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
    fail: (e: Error | undefined) => (failWith = e),
  };
}

const orders: RouteCertificateRequest = { kind: 'db', name: 'orders' };

test('one certificate per route and login, shared by concurrent callers', async () => {
  const { certs, calls } = harness();
  const [a, b] = await Promise.all([certs.get(alice, 'LOGIN1', orders), certs.get(alice, 'LOGIN1', orders)]);
  assert.equal(a.certPem, 'cert#1');
  assert.equal(b.certPem, 'cert#1');
  assert.equal((await certs.get(alice, 'LOGIN1', orders)).certPem, 'cert#1');
  const pinned = await certs.get(alice, 'LOGIN1', { ...orders, dbUser: 'bob', dbName: 'sales' });
  assert.equal(pinned.certPem, 'cert#2', 'a pinned db user is another route');
  assert.deepEqual(calls, [orders, { ...orders, dbUser: 'bob', dbName: 'sales' }]);
});

test('renewed once 2/3 of its life has passed, not before', async () => {
  const { certs, calls, advance } = harness();
  await certs.get(alice, 'LOGIN1', orders);
  advance((2 * HOUR) / 3 - 1000);
  assert.equal((await certs.get(alice, 'LOGIN1', orders)).certPem, 'cert#1');
  advance(1000);
  assert.equal((await certs.get(alice, 'LOGIN1', orders)).certPem, 'cert#2');
  assert.equal(calls.length, 2);
  const cert = { certPem: 'x', issuedAt: new Date(0), expiresAt: new Date(3000) };
  assert.equal(isFresh(cert, new Date(1999)), true);
  assert.equal(isFresh(cert, new Date(2000)), false);
});

test('a new login gets new certificates and drops the old; logout forgets them', async () => {
  const { certs } = harness();
  await certs.get(alice, 'LOGIN1', orders);
  await certs.get({ ...alice, user: 'bob' } as Profile, 'LOGIN-B', orders);
  assert.equal(certs.size, 2);
  assert.equal((await certs.get(alice, 'LOGIN2', orders)).certPem, 'cert#3');
  assert.equal(certs.size, 2, "alice's certificate of the old login is gone, bob's stays");
  certs.forget(alice);
  assert.equal(certs.size, 1);
});

test('a failed issue is not cached: the next call tries again', async () => {
  const { certs, calls, fail } = harness();
  fail(new GatehouseError(ErrorCode.DB_NOT_FOUND, 'database "orders" not found'));
  await assert.rejects(
    certs.get(alice, 'LOGIN1', orders),
    (e: unknown) => (e as GatehouseError).code === 'DB_NOT_FOUND',
  );
  fail(undefined);
  assert.equal((await certs.get(alice, 'LOGIN1', orders)).certPem, 'cert#2');
  assert.equal(calls.length, 2);
});

test('remembered certificates are used while fresh; the cache is bounded', async () => {
  const { certs, calls } = harness(2);
  const now = new Date('2026-01-01T00:00:00Z');
  certs.remember(alice, 'LOGIN1', orders, {
    certPem: 'stored',
    issuedAt: now,
    expiresAt: new Date(now.getTime() + HOUR),
  });
  assert.equal((await certs.get(alice, 'LOGIN1', orders)).certPem, 'stored');
  const stale = {
    certPem: 'old',
    issuedAt: new Date(now.getTime() - HOUR),
    expiresAt: new Date(now.getTime() + 60_000),
  };
  certs.remember(alice, 'LOGIN1', { kind: 'db', name: 'hr' }, stale);
  assert.notEqual((await certs.get(alice, 'LOGIN1', { kind: 'db', name: 'hr' })).certPem, 'old');
  await certs.get(alice, 'LOGIN1', { kind: 'db', name: 'x' });
  assert.equal(certs.size, 2, 'the oldest entry was evicted');
  assert.equal(calls.length, 2);
});
