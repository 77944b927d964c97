// Finding 7 of issue 11 (lockout like Teleport's), on a real AuthServer over a SQLite file:
// max_attempts failures lock the user with a lock resource (reason, expiry, audited); the count
// and the lock survive a fresh auth server over the same file; the right password while locked
// is answered "locked", not "wrong password"; deleting the lock (what `gatectl rm lock/NAME`
// does) lifts it; an unknown name gets the same answer; concurrent failures make one lock.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../../src-shared/errors.ts';
import { lockStore } from '../../locks/lock-service.ts';
import type { LoginInput } from '../auth-server.ts';
import { LOCKOUT_CREATED_BY, LOCKOUT_LABEL, LOCKOUT_MESSAGE } from '../login-lockout.ts';
import { openAuthFixture, type AuthFixture } from './auth-fixture.ts';

const PASSWORD = 'a long enough password 1';
const LOCKED =
  /^too many failed login attempts; try again in \d+ s \(user "(.+)" is locked; an administrator can lift the lock\)$/;
const open: AuthFixture[] = [];
afterEach(async () => {
  for (const fx of open.splice(0)) await fx.close().catch(() => undefined);
});

async function fixture(maxAttempts = 3): Promise<AuthFixture> {
  const fx = await openAuthFixture({ maxAttempts, durationMs: 30 * 60_000 });
  open.push(fx);
  return fx;
}

async function failure(fx: AuthFixture, input: LoginInput): Promise<GatehouseError> {
  const e = await fx.auth.login(input).then(
    () => assert.fail(`login of ${input.user} succeeded`),
    (err: unknown) => err,
  );
  assert.ok(isGatehouseError(e), String(e));
  return e;
}

test('failures lock the user with a lock resource; the right password then says locked', async () => {
  const fx = await fixture(3);
  await fx.addUser('bob', PASSWORD);
  for (let i = 0; i < 3; i++) {
    const e = await failure(fx, fx.loginInput('bob', `wrong password ${i}`));
    assert.equal(e.code, ErrorCode.BAD_CREDENTIALS, `attempt ${i + 1}: ${e.message}`);
  }
  const locked = await failure(fx, fx.loginInput('bob', PASSWORD));
  assert.equal(locked.code, ErrorCode.RATE_LIMITED);
  assert.match(locked.message, LOCKED);
  assert.doesNotMatch(locked.message, /password/);

  const locks = await lockStore(fx.backend).list();
  assert.equal(locks.length, 1);
  const lock = locks[0]!;
  assert.deepEqual(lock.spec.target, { user: 'bob' });
  assert.equal(lock.spec.message, `${LOCKOUT_MESSAGE} (3)`);
  assert.equal(lock.spec.created_by, LOCKOUT_CREATED_BY);
  assert.equal(lock.metadata.labels?.[LOCKOUT_LABEL], 'failed-logins');
  const lockedFor = Date.parse(lock.spec.expires!) - Date.now();
  assert.ok(lockedFor > 29 * 60_000 && lockedFor <= 30 * 60_000, `lock expires in ${lockedFor} ms`);

  // Audited: the lock's creation, the failure that caused it and the refusal of the right password.
  const events = (await fx.audit.search({ order: 'asc' })).events;
  const created = events.find((e) => e.type === 'lock.create');
  assert.ok(created?.success, JSON.stringify(events.map((e) => e.type)));
  assert.deepEqual(created['target'], { user: 'bob' });
  const logins = events.filter((e) => e.type === 'user.login' && e.user === 'bob');
  assert.equal(logins.length, 4);
  assert.match(
    logins[2]!.message,
    new RegExp(`^wrong password; locked until .* after 3 failed login attempts \\(lock ${lock.metadata.name}\\)$`),
  );
  assert.equal(logins[2]!['lock'], lock.metadata.name);
  assert.match(logins[3]!.message, /^user is locked: locked until /);
  assert.equal(logins[3]!.code, 'GH1000W');
});

test('the count and the lock survive a fresh auth server over the same database; deleting the lock lifts it', async () => {
  let fx = await fixture(3);
  await fx.addUser('carol', PASSWORD);
  await failure(fx, fx.loginInput('carol', 'wrong password 1'));
  await failure(fx, fx.loginInput('carol', 'wrong password 2'));
  fx = await fx.reopen();
  open.push(fx);
  // The third failure after the "restart" is the one that locks: the count was stored.
  assert.equal((await failure(fx, fx.loginInput('carol', 'wrong password 3'))).code, ErrorCode.BAD_CREDENTIALS);
  fx = await fx.reopen();
  open.push(fx);
  const refused = await failure(fx, fx.loginInput('carol', PASSWORD));
  assert.equal(refused.code, ErrorCode.RATE_LIMITED);
  assert.match(refused.message, LOCKED);

  const [lock] = await lockStore(fx.backend).list();
  assert.ok(lock);
  await lockStore(fx.backend).delete(lock.metadata.name);
  const certs = await fx.auth.login(fx.loginInput('carol', PASSWORD));
  assert.equal(certs.user, 'carol');
  // Lifting gave a fresh count: one failure does not lock again.
  assert.equal((await failure(fx, fx.loginInput('carol', 'wrong password 4'))).code, ErrorCode.BAD_CREDENTIALS);
  assert.equal((await lockStore(fx.backend).list()).length, 0);
});

test('a success resets the count; an unknown name is locked out with the same words and no lock', async () => {
  const fx = await fixture(3);
  await fx.addUser('dave', PASSWORD);
  await failure(fx, fx.loginInput('dave', 'wrong password 1'));
  await failure(fx, fx.loginInput('dave', 'wrong password 2'));
  await fx.auth.login(fx.loginInput('dave', PASSWORD));
  await failure(fx, fx.loginInput('dave', 'wrong password 3'));
  await failure(fx, fx.loginInput('dave', 'wrong password 4'));
  assert.ok(await fx.auth.login(fx.loginInput('dave', PASSWORD)), 'two failures after a success do not lock');

  for (let i = 0; i < 3; i++) await failure(fx, fx.loginInput('ghost', `guess ${i}`));
  const ghost = await failure(fx, fx.loginInput('ghost', 'guess 3'));
  assert.equal(ghost.code, ErrorCode.RATE_LIMITED);
  assert.equal(ghost.message.match(LOCKED)?.[1], 'ghost');
  assert.equal((await lockStore(fx.backend).list()).length, 0, 'nobody to lock, so no lock resource');
});

test('concurrent failures past the limit make exactly one lock', async () => {
  const fx = await fixture(3);
  await fx.addUser('erin', PASSWORD);
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) => failure(fx, fx.loginInput('erin', `wrong password ${i}`))),
  );
  assert.ok(results.every((e) => e.code === ErrorCode.BAD_CREDENTIALS || e.code === ErrorCode.RATE_LIMITED));
  const locks = await lockStore(fx.backend).list();
  assert.equal(locks.length, 1, JSON.stringify(locks));
  assert.equal((await failure(fx, fx.loginInput('erin', PASSWORD))).code, ErrorCode.RATE_LIMITED);
});

test('lockout settings out of range are refused with the config field named', async () => {
  await assert.rejects(openAuthFixture({ maxAttempts: 0, durationMs: 60_000 }), (e: unknown) => {
    assert.ok(e instanceof GatehouseError && e.code === ErrorCode.CONFIG);
    assert.match(e.message, /^auth\.lockout\.max_attempts must be 1\.\.100, got 0$/);
    return true;
  });
});

test('a success clears a stored count, and a login with none counted writes nothing for it', async () => {
  const fx = await fixture(3);
  await fx.addUser('fay', PASSWORD);
  const deleted: string[] = [];
  const deleteItem = fx.backend.delete.bind(fx.backend);
  fx.backend.delete = (key: string) => {
    deleted.push(key);
    return deleteItem(key);
  };
  await fx.auth.login(fx.loginInput('fay', PASSWORD));
  assert.deepEqual(
    deleted.filter((k) => k.startsWith('/login_failures/')),
    [],
    'no failures counted: no reset write',
  );
  await failure(fx, fx.loginInput('fay', 'wrong password 1'));
  await fx.auth.login(fx.loginInput('fay', PASSWORD));
  assert.equal(deleted.filter((k) => k.startsWith('/login_failures/')).length, 1, 'the counted failure is reset');
  await failure(fx, fx.loginInput('fay', 'wrong password 2'));
  await failure(fx, fx.loginInput('fay', 'wrong password 3'));
  assert.ok(await fx.auth.login(fx.loginInput('fay', PASSWORD)), 'the reset count started again from zero');
});
