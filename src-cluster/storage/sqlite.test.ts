import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { prefixEnd, type WatchEvent, type Watcher } from './backend.ts';
import { SqliteBackend, type SqliteBackendOptions } from './sqlite.ts';

const run = promisify(execFile);
const CHILD = new URL('./testdata/sqlite-child.ts', import.meta.url).pathname;

function tempDb(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-storage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'gatehouse.db');
}

async function openAt(
  t: TestContext,
  path: string,
  options: Partial<SqliteBackendOptions> = {},
): Promise<SqliteBackend> {
  const backend = await SqliteBackend.open({ path, ...options });
  t.after(() => backend.close());
  return backend;
}

/** Reads watch events one by one, failing clearly instead of hanging when one never comes. */
function reader(watcher: Watcher) {
  const it = watcher[Symbol.asyncIterator]();
  return {
    async next(timeoutMs = 2000): Promise<WatchEvent> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no watch event within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const r = await Promise.race([it.next(), timeout]);
        if (r.done) throw new Error('watcher ended');
        return r.value;
      } finally {
        clearTimeout(timer);
      }
    },
    async ended(timeoutMs = 2000): Promise<boolean> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((res) => (timer = setTimeout(res, timeoutMs, 'timeout')));
      const r = await Promise.race([it.next(), timeout]);
      clearTimeout(timer);
      return r !== 'timeout' && r.done === true;
    },
  };
}

function summary(e: WatchEvent): string {
  return e.type === 'init' ? 'init' : `${e.type} ${e.item.key}=${e.item.value}`;
}

function code(c: string) {
  return (e: unknown) => e instanceof GatehouseError && e.code === c;
}

test('put, get, create and delete keep one increasing revision counter', async (t) => {
  const db = await openAt(t, tempDb(t));
  const a1 = await db.put({ key: '/roles/admin', value: '{"v":1}' });
  assert.equal((await db.get('/roles/admin'))?.value, '{"v":1}');
  const b1 = await db.create({ key: '/users/alice', value: 'alice' });
  const a2 = await db.put({ key: '/roles/admin', value: '{"v":2}' });
  assert.ok(a1.revision < b1.revision && b1.revision < a2.revision, 'revisions grow across keys');
  assert.deepEqual(await db.get('/roles/admin'), { key: '/roles/admin', value: '{"v":2}', revision: a2.revision });
  await assert.rejects(db.create({ key: '/users/alice', value: 'again' }), code(ErrorCode.ALREADY_EXISTS));
  assert.equal((await db.get('/users/alice'))?.value, 'alice', 'failed create changed nothing');
  await db.delete('/users/alice');
  assert.equal(await db.get('/users/alice'), undefined);
  await assert.rejects(db.delete('/users/alice'), code(ErrorCode.NOT_FOUND));
  await assert.rejects(db.put({ key: 'no-slash', value: 'x' }), code(ErrorCode.BAD_REQUEST));
  await assert.rejects(db.get('/bad\nkey'), code(ErrorCode.BAD_REQUEST));
});

test('compare-and-swap succeeds only from the revision it expects', async (t) => {
  const db = await openAt(t, tempDb(t));
  const v1 = await db.put({ key: '/k', value: '1' });
  const v2 = await db.compareAndSwap(v1, { key: '/k', value: '2' });
  assert.ok(v2.revision > v1.revision);
  await assert.rejects(db.compareAndSwap(v1, { key: '/k', value: 'stale' }), code(ErrorCode.CONFLICT));
  await assert.rejects(
    db.compareAndSwap({ key: '/missing', revision: 1 }, { key: '/missing', value: 'x' }),
    code(ErrorCode.CONFLICT),
  );
  await assert.rejects(db.compareAndSwap(v2, { key: '/other', value: 'x' }), code(ErrorCode.BAD_REQUEST));
  assert.equal((await db.get('/k'))?.value, '2');
});

test('two concurrent updaters on two connections: one wins, the other gets CONFLICT', async (t) => {
  const path = tempDb(t);
  const [a, b] = [await openAt(t, path), await openAt(t, path)];
  await a.put({ key: '/counter', value: '0' });
  const [readA, readB] = [(await a.get('/counter'))!, (await b.get('/counter'))!];
  assert.equal(readA.revision, readB.revision);
  const results = await Promise.allSettled([
    a.compareAndSwap(readA, { key: '/counter', value: 'from a' }),
    b.compareAndSwap(readB, { key: '/counter', value: 'from b' }),
  ]);
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(won.length, 1);
  assert.equal(lost.length, 1);
  assert.equal((lost[0]!.reason as GatehouseError).code, ErrorCode.CONFLICT);
  const winner = (won[0] as PromiseFulfilledResult<{ value: string }>).value.value;
  assert.equal((await b.get('/counter'))?.value, winner);
});

test('two processes incrementing one counter with CAS lose no update', async (t) => {
  const path = tempDb(t);
  const db = await openAt(t, path, { pollIntervalMs: 20 });
  await db.put({ key: '/counter', value: '0' });
  const events = reader(db.watch(['/counter']));
  await events.next();
  const times = 150;
  const children = ['p1', 'p2'].map((tag) =>
    run(
      process.execPath,
      ['--import', 'tsx', CHILD, JSON.stringify({ task: 'increment', path, key: '/counter', times, tag, parties: 2 })],
      {
        timeout: 60_000,
      },
    ),
  );
  const outputs = await Promise.all(children);
  const conflicts = outputs.map((o) => (JSON.parse(o.stdout) as { conflicts: number }).conflicts);
  assert.equal((await db.get('/counter'))?.value, String(2 * times));
  // Without contention this test would prove nothing about CAS.
  assert.ok(conflicts[0]! + conflicts[1]! > 0, `expected some CAS conflicts between processes, got ${conflicts}`);
  assert.equal((await db.listPrefix('/log/')).length, 2 * times);
  // This process saw every increment made by the other two, in order.
  const seen: string[] = [];
  for (let i = 0; i < 2 * times; i++) {
    const e = await events.next();
    if (e.type === 'put') seen.push(e.item.value);
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 2 * times }, (_, i) => String(i + 1)),
  );
});

test('prefix and range listing are sorted by code point and bounded correctly', async (t) => {
  const db = await openAt(t, tempDb(t));
  const keys = [
    '/roles/b',
    '/rolesx/c',
    '/roles/\u{1F600}',
    '/users/a',
    '/roles/a',
    '/roles/\uFFFF',
    '/roles/é',
    '/roles/\u{10FFFF}',
    '/role',
  ];
  for (const key of keys) await db.put({ key, value: key });
  const roles = (await db.listPrefix('/roles/')).map((i) => i.key);
  // U+FFFF sorts before the emoji by code point even though UTF-16 order says otherwise.
  assert.deepEqual(roles, [
    '/roles/a',
    '/roles/b',
    '/roles/é',
    '/roles/\uFFFF',
    '/roles/\u{1F600}',
    '/roles/\u{10FFFF}',
  ]);
  assert.deepEqual(
    (await db.listPrefix('/roles/', 2)).map((i) => i.key),
    ['/roles/a', '/roles/b'],
  );
  assert.deepEqual(
    (await db.listRange('/roles/a', '/roles/é')).map((i) => i.key),
    ['/roles/a', '/roles/b'],
    'end is exclusive',
  );
  assert.equal((await db.listPrefix('')).length, keys.length);
  assert.deepEqual(await db.listRange('/z', '/a'), []);
  await assert.rejects(db.listPrefix('/', 0), code(ErrorCode.BAD_REQUEST));

  assert.equal(await db.deleteRange('/roles/', prefixEnd('/roles/')!), 6);
  assert.deepEqual(
    (await db.listPrefix('/')).map((i) => i.key),
    ['/role', '/rolesx/c', '/users/a'],
  );
});

test('prefixEnd is the tightest upper bound', () => {
  assert.equal(prefixEnd('/a'), '/b');
  assert.equal(prefixEnd('/a\uD7FF'), '/a\uE000');
  assert.equal(prefixEnd('/a\u{10FFFF}'), '/b');
  assert.equal(prefixEnd('\u{10FFFF}'), undefined);
  assert.equal(prefixEnd(''), undefined);
});

test('expired items are hidden at once and removed by the sweep with a delete event', async (t) => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const db = await openAt(t, tempDb(t), { now: () => now, sweepIntervalMs: 60_000 });
  await db.put({ key: '/locks/l1', value: 'lock', expires: new Date(now + 1000) });
  await db.put({ key: '/locks/l2', value: 'forever' });
  assert.equal((await db.get('/locks/l1'))?.expires?.getTime(), now + 1000);
  const events = reader(db.watch(['/locks/']));
  assert.equal((await events.next()).type, 'init');

  now += 1000;
  assert.equal(await db.get('/locks/l1'), undefined, 'hidden once expired, before any sweep');
  assert.deepEqual(
    (await db.listPrefix('/locks/')).map((i) => i.key),
    ['/locks/l2'],
  );
  await assert.rejects(db.delete('/locks/l1'), code(ErrorCode.NOT_FOUND));
  await assert.rejects(
    db.compareAndSwap({ key: '/locks/l1', revision: 1 }, { key: '/locks/l1', value: 'x' }),
    code(ErrorCode.CONFLICT),
  );

  // The rejected writes above must not have produced events; the sweep produces exactly one.
  assert.equal(await db.sweepExpired(), 1);
  assert.equal(await db.sweepExpired(), 0);
  const deleted = await events.next();
  assert.equal(summary(deleted), 'delete /locks/l1=lock');
  // Once swept, the key can be created again.
  await db.create({ key: '/locks/l1', value: 'new' });
  assert.equal(summary(await events.next()), 'put /locks/l1=new');
});

test('creating over an expired but unswept key emits its delete first', async (t) => {
  let now = 1_000_000;
  const db = await openAt(t, tempDb(t), { now: () => now, sweepIntervalMs: 60_000 });
  await db.put({ key: '/k', value: 'old', expires: new Date(now + 10) });
  const events = reader(db.watch([]));
  await events.next();
  now += 10;
  await db.create({ key: '/k', value: 'new' });
  assert.equal(summary(await events.next()), 'delete /k=old');
  assert.equal(summary(await events.next()), 'put /k=new');
});

test('the periodic sweep runs on its own', async (t) => {
  const db = await openAt(t, tempDb(t), { sweepIntervalMs: 20 });
  const events = reader(db.watch(['/tmp/']));
  await events.next();
  await db.put({ key: '/tmp/x', value: 'soon gone', expires: new Date(Date.now() + 50) });
  assert.equal((await events.next()).type, 'put');
  assert.equal(summary(await events.next(3000)), 'delete /tmp/x=soon gone');
  assert.deepEqual(await db.listRange('/', '0'), []);
});

test('in-process watch: init first, then only matching keys, in revision order, without polling', async (t) => {
  // A poll interval this long means any delivery below comes from the local-write path.
  const db = await openAt(t, tempDb(t), { pollIntervalMs: 60_000 });
  const before = await db.put({ key: '/roles/old', value: 'x' });
  const events = reader(db.watch(['/roles/', '/users/']));
  const init = await events.next();
  assert.deepEqual(init, { type: 'init', revision: before.revision });
  await db.put({ key: '/nodes/n1', value: 'ignored' });
  await db.put({ key: '/roles/a', value: '1' });
  await db.put({ key: '/users/u', value: '2' });
  await db.delete('/roles/a');
  const got = [await events.next(200), await events.next(200), await events.next(200)];
  assert.deepEqual(got.map(summary), ['put /roles/a=1', 'put /users/u=2', 'delete /roles/a=1']);
  const revisions = got.map((e) => (e.type === 'init' ? 0 : e.item.revision));
  assert.deepEqual(revisions, [before.revision + 2, before.revision + 3, before.revision + 4]);
});

test('a watcher on another instance of the same file sees writes through polling', async (t) => {
  const path = tempDb(t);
  const writer = await openAt(t, path);
  const watcherSide = await openAt(t, path, { pollIntervalMs: 20 });
  const events = reader(watcherSide.watch(['/roles/']));
  assert.equal((await events.next()).type, 'init');
  const started = Date.now();
  const put = await writer.put({ key: '/roles/a', value: 'v1' });
  await writer.compareAndSwap(put, { key: '/roles/a', value: 'v2' });
  await writer.delete('/roles/a');
  assert.deepEqual([await events.next(), await events.next(), await events.next()].map(summary), [
    'put /roles/a=v1',
    'put /roles/a=v2',
    'delete /roles/a=v2',
  ]);
  assert.ok(Date.now() - started < 1000, 'delivered within a few poll intervals');
});

test('a watcher whose events were pruned before it read them fails instead of missing them', async (t) => {
  const path = tempDb(t);
  let now = 5_000_000;
  const writer = await openAt(t, path, { now: () => now, eventRetentionMs: 1000, sweepIntervalMs: 60_000 });
  const lagging = await openAt(t, path, { pollIntervalMs: 60_000 });
  const events = reader(lagging.watch([]));
  await events.next();
  await writer.put({ key: '/a', value: '1' });
  now += 5000;
  await writer.sweepExpired(); // prunes the event for /a before `lagging` polled
  await lagging.put({ key: '/b', value: '2' }); // its local write makes it read the table now
  await assert.rejects(
    events.next(),
    (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.STORAGE && /re-create/.test(e.message),
  );
});

test('a watcher that is not read fails once its buffer is full', async (t) => {
  const db = await openAt(t, tempDb(t), { maxBufferedEvents: 3 });
  const watcher = db.watch([]);
  for (let i = 0; i < 5; i++) await db.put({ key: `/k${i}`, value: String(i) });
  assert.equal(watcher.closed, true);
  const events = reader(watcher);
  await assert.rejects(events.next(), /fell behind/);
});

test('the database runs in WAL mode and its files are private (0600)', async (t) => {
  const path = tempDb(t);
  writeFileSync(path, '');
  chmodSync(path, 0o644); // a loose pre-existing file gets tightened
  const db = await openAt(t, path);
  await db.put({ key: '/k', value: 'v' });
  const other = new Database(path, { readonly: true });
  try {
    assert.equal(other.pragma('journal_mode', { simple: true }), 'wal');
  } finally {
    other.close();
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    assert.ok(existsSync(file), `${file} exists`);
    assert.equal(statSync(file).mode & 0o777, 0o600, `${file} mode`);
  }
});

test('close ends watchers, stops timers, and rejects further use', async (t) => {
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const db = await SqliteBackend.open({ path: tempDb(t), pollIntervalMs: 10, sweepIntervalMs: 10 });
  const events = reader(db.watch([]));
  await events.next();
  assert.ok(
    process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length >= before + 2,
    'poll and sweep timers run',
  );
  await db.close();
  await db.close(); // idempotent
  assert.equal(await events.ended(), true);
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
  await assert.rejects(db.get('/k'), code(ErrorCode.STORAGE));
  assert.throws(() => db.watch([]), code(ErrorCode.STORAGE));
});

test('a process that closes its backend exits on its own', async (t) => {
  const path = tempDb(t);
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', CHILD, JSON.stringify({ task: 'open-watch-close', path })],
    {
      timeout: 20_000,
    },
  );
  assert.equal(stdout, 'closed');
});
