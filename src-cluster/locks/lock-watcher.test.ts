import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteBackend } from '../storage/sqlite.ts';
import type { Backend, Watcher } from '../storage/backend.ts';
import { createMemoryLogger } from '../log/logger.ts';
import type { LockingMode } from '../resources/cluster-auth-preference.ts';
import { lockStore } from './lock-service.ts';
import { LockWatcher } from './lock-watcher.ts';
import { accessTargets, UNRELIABLE_LOCK_VIEW, type LockNotice } from './lock-targets.ts';
import { lockViewLine } from '../../test-support/cache-sync.ts';

const backends: SqliteBackend[] = [];
after(async () => {
  for (const b of backends) await b.close();
});

async function sqlite(path = ':memory:'): Promise<SqliteBackend> {
  const b = await SqliteBackend.open({ path, pollIntervalMs: 20 });
  backends.push(b);
  return b;
}

/** A backend whose watch can be broken on demand: the live watcher fails, new ones throw. */
function breakable(inner: Backend) {
  let broken = false;
  const live = new Set<Watcher & { fail?: (e: Error) => void }>();
  // Delegates by hand: the SQLite backend's private fields rule out prototype tricks.
  const backend: Backend = {
    get: (k) => inner.get(k),
    put: (i) => inner.put(i),
    create: (i) => inner.create(i),
    compareAndSwap: (e, r) => inner.compareAndSwap(e, r),
    batch: (ops) => inner.batch(ops),
    delete: (k) => inner.delete(k),
    deleteRange: (s, e) => inner.deleteRange(s, e),
    listRange: (s, e, l) => inner.listRange(s, e, l),
    listPrefix: (p, l) => inner.listPrefix(p, l),
    watch: (p) => inner.watch(p),
    runDataMigration: (m) => inner.runDataMigration(m),
    close: () => inner.close(),
  };
  backend.watch = (prefixes) => {
    if (broken) throw new Error('storage unreachable');
    const w = inner.watch(prefixes) as Watcher & { fail?: (e: Error) => void };
    live.add(w);
    return w;
  };
  backend.listPrefix = (prefix, limit) =>
    broken ? Promise.reject(new Error('storage unreachable')) : inner.listPrefix(prefix, limit);
  return {
    backend,
    break() {
      broken = true;
      for (const w of live) w.fail!(new Error('watch broke'));
      live.clear();
    },
    heal() {
      broken = false;
    },
  };
}

function lockDoc(target: Record<string, string>, extra: Record<string, string> = {}) {
  return {
    kind: 'lock',
    version: 'v2',
    metadata: { name: crypto.randomUUID() },
    spec: { target, created_by: 'admin', created_at: new Date().toISOString(), ...extra },
  } as never;
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const alice = accessTargets({ user: 'alice', roles: ['dev'], login: 'root', node: 'n1', device: 'd1' });

test('a lock written after start is seen, matched by target, and reported to subscribers', async () => {
  const b = await sqlite();
  const store = lockStore(b);
  const log = createMemoryLogger();
  const w = new LockWatcher({ store, log, lockingMode: () => 'best_effort' });
  await w.start();
  const seen: LockNotice[] = [];
  w.subscribe((l) => seen.push(l));
  assert.deepEqual(w.check(alice), { locked: false });
  const lock = await store.create(lockDoc({ device: 'd1' }, { message: 'stolen laptop' }));
  await until(() => seen.length === 1);
  assert.equal(seen[0]!.message, 'lock targeting Device:"d1" is in force: stolen laptop');
  assert.equal(seen[0]!.matches(alice), true);
  assert.equal(seen[0]!.matches(accessTargets({ user: 'bob' })), false);
  assert.deepEqual(w.check(alice), {
    locked: true,
    message: 'lock targeting Device:"d1" is in force: stolen laptop',
    lockName: lock.metadata.name,
    // Apart, for GetDeviceStatus (lock_message, lock_target).
    target: 'Device:d1',
    lockMessage: 'stolen laptop',
  });
  assert.deepEqual(w.check(accessTargets({ user: 'bob', device: 'd2' })), { locked: false });
  await store.delete(lock.metadata.name);
  await until(() => !w.check(alice).locked);
  w.close();
});

test('the view logs each lock it takes in or drops, from events and from a reload (tests wait for these lines)', async () => {
  const b = await sqlite();
  const store = lockStore(b);
  const early = await store.create(lockDoc({ user: 'early' }));
  const log = createMemoryLogger();
  const w = new LockWatcher({ store, log: log.child('locks'), lockingMode: () => 'best_effort' });
  await w.start();
  const late = await store.create(lockDoc({ user: 'late' }));
  await until(() => w.check(accessTargets({ user: 'late' })).locked);
  await store.delete(late.metadata.name);
  await until(() => !w.check(accessTargets({ user: 'late' })).locked);
  const applied = log.lines.filter((l) => l.includes('lock view applied')).map((l) => l.replace(/^.*applied /, ''));
  assert.deepEqual(applied, [
    `name=${early.metadata.name} type=put`,
    `name=${late.metadata.name} type=put`,
    `name=${late.metadata.name} type=delete`,
  ]);
  // The harnesses' pattern (prefixed with the process label) matches the line as logged.
  const line = log.lines.find((l) => l.includes(`name=${late.metadata.name} type=delete`))!;
  assert.match(`[authB] ${line}`, lockViewLine('authB', late.metadata.name, 'delete'));
  w.close();
});

test('every target kind matches only its own kind', async () => {
  const b = await sqlite();
  const store = lockStore(b);
  const w = new LockWatcher({ store, log: createMemoryLogger(), lockingMode: () => 'best_effort' });
  for (const [kind, value, word] of [
    ['user', 'alice', 'User'],
    ['role', 'dev', 'Role'],
    ['login', 'root', 'Login'],
    ['node', 'n1', 'Node'],
  ] as const) {
    await store.create(lockDoc({ [kind]: value }));
    await w.start();
    await until(() => w.check(alice).locked);
    assert.equal((w.check(alice) as { message: string }).message, `lock targeting ${word}:"${value}" is in force`);
    // The same value under another kind is not locked: a role "alice" does not lock user alice.
    const other = kind === 'user' ? { roles: [value] } : { user: value };
    assert.equal(w.check(accessTargets(other)).locked, false);
    for (const l of await store.list()) await store.delete(l.metadata.name);
    await until(() => !w.check(alice).locked);
  }
  w.close();
});

test('an expired lock stops applying by itself', async () => {
  const b = await sqlite();
  const store = lockStore(b);
  const w = new LockWatcher({ store, log: createMemoryLogger(), lockingMode: () => 'strict' });
  await w.start();
  await store.create(lockDoc({ user: 'alice' }, { expires: new Date(Date.now() + 300).toISOString() }));
  await until(() => w.check(alice).locked);
  await new Promise((r) => setTimeout(r, 350));
  assert.deepEqual(w.check(alice), { locked: false });
  w.close();
});

test('locks written by another process on the same database arrive through the watch', async () => {
  const path = `/tmp/gatehouse-locks-${process.pid}-${Date.now()}.db`;
  const mine = await sqlite(path);
  const theirs = await sqlite(path);
  const w = new LockWatcher({ store: lockStore(mine), log: createMemoryLogger(), lockingMode: () => 'best_effort' });
  await w.start();
  const started = Date.now();
  await lockStore(theirs).create(lockDoc({ user: 'alice' }));
  await until(() => w.check(alice).locked);
  assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
  w.close();
});

for (const mode of ['strict', 'best_effort'] as LockingMode[]) {
  test(`watch breaks under locking_mode ${mode}`, async () => {
    const b = breakable(await sqlite());
    const store = lockStore(b.backend);
    const log = createMemoryLogger();
    const w = new LockWatcher({ store, log, lockingMode: () => mode, retryMs: 30 });
    await w.start();
    await store.create(lockDoc({ user: 'mallory' }));
    await until(() => w.check(accessTargets({ user: 'mallory' })).locked);
    assert.equal(w.healthy, true);

    b.break();
    await until(() => !w.healthy);
    const bob = accessTargets({ user: 'bob' });
    const mallory = accessTargets({ user: 'mallory' });
    if (mode === 'strict') {
      assert.deepEqual(w.check(bob), { locked: true, message: UNRELIABLE_LOCK_VIEW });
      assert.deepEqual(w.check(mallory), { locked: true, message: UNRELIABLE_LOCK_VIEW });
    } else {
      // The last known view still applies; everyone else keeps going, with a warning logged.
      assert.deepEqual(w.check(bob), { locked: false });
      assert.equal(w.check(mallory).locked, true);
      assert.ok(log.lines.some((l) => l.includes('lock view is unreliable')));
    }
    assert.ok(log.lines.some((l) => l.includes('lock view became unreliable')));

    // A lock written while blind is picked up once the watch is back.
    await lockStore(b.backend).create(lockDoc({ user: 'bob' }));
    b.heal();
    await until(() => w.healthy);
    assert.equal(w.check(bob).locked, true);
    assert.equal((w.check(bob) as { message: string }).message, 'lock targeting User:"bob" is in force');
    assert.ok(log.lines.some((l) => l.includes('lock view restored')));
    w.close();
  });
}

test('a view that could never load refuses under strict', async () => {
  const b = breakable(await sqlite());
  b.break();
  const w = new LockWatcher({
    store: lockStore(b.backend),
    log: createMemoryLogger(),
    lockingMode: () => 'strict',
    retryMs: 30,
  });
  await w.start();
  assert.equal(w.healthy, false);
  assert.deepEqual(w.check(alice), { locked: true, message: UNRELIABLE_LOCK_VIEW });
  b.heal();
  await until(() => w.healthy);
  assert.deepEqual(w.check(alice), { locked: false });
  w.close();
});

test("a service's copy cut off from auth is an unreliable view: strict refuses, best_effort keeps the last locks", async () => {
  const store = lockStore(await sqlite());
  let connected = true;
  let mode: LockingMode = 'strict';
  const w = new LockWatcher({
    store,
    log: createMemoryLogger(),
    lockingMode: () => mode,
    upstreamConnected: () => connected,
  });
  await w.start();
  const alice = accessTargets({ user: 'alice', roles: ['access'] });
  assert.deepEqual(w.check(alice), { locked: false });
  connected = false;
  assert.equal(w.healthy, false);
  assert.deepEqual(w.check(alice), { locked: true, message: UNRELIABLE_LOCK_VIEW });
  mode = 'best_effort';
  assert.deepEqual(w.check(alice), { locked: false });
  connected = true;
  mode = 'strict';
  assert.equal(w.healthy, true);
  assert.deepEqual(w.check(alice), { locked: false });
  w.close();
});
