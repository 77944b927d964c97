// Test-only: the storage contract (backend.ts) as one suite every backend runs, so SQLite and
// PostgreSQL prove the same behaviour: revisions, preconditions, listing order, expiry, watch.
// Batches are in batch-conformance.ts. Backend-specific behaviour stays in each backend's tests.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { until } from '../../../test-support/until.ts';
import { prefixEnd } from '../backend.ts';
import { code, openFresh, reader, summary, type BackendHarness } from './conformance-kit.ts';

export function runBackendConformance(h: BackendHarness): void {
  const it = (name: string, fn: (t: TestContext) => Promise<void>): void => void test(`${h.name}: ${name}`, fn);

  it('put, get, create and delete keep one increasing revision counter', async (t) => {
    const db = await openFresh(h, t);
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

  it('compare-and-swap succeeds only from the revision it expects', async (t) => {
    const db = await openFresh(h, t);
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

  it('two concurrent updaters on two instances: one wins, the other gets CONFLICT', async (t) => {
    const store = await h.store(t);
    const [a, b] = [await store.open(), await store.open()];
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

  it('concurrent creates of one key from two instances: exactly one wins', async (t) => {
    const store = await h.store(t);
    const [a, b] = [await store.open(), await store.open()];
    for (let round = 0; round < 20; round++) {
      const key = `/devices/by-credential/c${round}`;
      const results = await Promise.allSettled([
        a.create({ key, value: 'a' }),
        b.create({ key, value: 'b' }),
        a.batch([{ type: 'create', item: { key, value: 'a2' } }]),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: ${results.map((r) => r.status).join(',')}`);
      for (const r of results) {
        if (r.status === 'rejected') assert.equal((r.reason as GatehouseError).code, ErrorCode.ALREADY_EXISTS);
      }
    }
  });

  it('prefix and range listing are sorted by code point and bounded correctly', async (t) => {
    const db = await openFresh(h, t);
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

  it('expired items are hidden at once and removed by the sweep with a delete event', async (t) => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const db = await openFresh(h, t, { now: () => now, sweepIntervalMs: 60_000 });
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
    assert.equal(summary(await events.next()), 'delete /locks/l1=lock');
    // Once swept, the key can be created again.
    await db.create({ key: '/locks/l1', value: 'new' });
    assert.equal(summary(await events.next()), 'put /locks/l1=new');
  });

  it('creating over an expired but unswept key emits its delete first', async (t) => {
    let now = 1_000_000;
    const db = await openFresh(h, t, { now: () => now, sweepIntervalMs: 60_000 });
    await db.put({ key: '/k', value: 'old', expires: new Date(now + 10) });
    const events = reader(db.watch([]));
    await events.next();
    now += 10;
    await db.create({ key: '/k', value: 'new' });
    assert.equal(summary(await events.next()), 'delete /k=old');
    assert.equal(summary(await events.next()), 'put /k=new');
  });

  it('the periodic sweep runs on its own', async (t) => {
    const db = await openFresh(h, t, { sweepIntervalMs: 20 });
    const events = reader(db.watch(['/tmp/']));
    await events.next();
    await db.put({ key: '/tmp/x', value: 'soon gone', expires: new Date(Date.now() + 50) });
    assert.equal((await events.next()).type, 'put');
    assert.equal(summary(await events.next(3000)), 'delete /tmp/x=soon gone');
    assert.deepEqual(await db.listRange('/', '0'), []);
  });

  it('in-process watch: init first, then only matching keys, in revision order, without polling', async (t) => {
    // A poll interval this long means any delivery below comes from the local-write path.
    const db = await openFresh(h, t, { pollIntervalMs: 60_000 });
    const before = await db.put({ key: '/roles/old', value: 'x' });
    const events = reader(db.watch(['/roles/', '/users/']));
    assert.deepEqual(await events.next(), { type: 'init', revision: before.revision });
    await db.put({ key: '/nodes/n1', value: 'ignored' });
    await db.put({ key: '/roles/a', value: '1' });
    await db.put({ key: '/users/u', value: '2' });
    await db.delete('/roles/a');
    const got = [await events.next(500), await events.next(500), await events.next(500)];
    assert.deepEqual(got.map(summary), ['put /roles/a=1', 'put /users/u=2', 'delete /roles/a=1']);
    const revisions = got.map((e) => (e.type === 'init' ? 0 : e.item.revision));
    assert.deepEqual(revisions, [before.revision + 2, before.revision + 3, before.revision + 4]);
  });

  it('a watcher on another instance of the same store sees its writes', async (t) => {
    const store = await h.store(t);
    const writer = await store.open();
    const watcherSide = await store.open({ pollIntervalMs: 20 });
    const events = reader(watcherSide.watch(['/roles/']));
    assert.equal((await events.next()).type, 'init');
    const put = await writer.put({ key: '/roles/a', value: 'v1' });
    await writer.compareAndSwap(put, { key: '/roles/a', value: 'v2' });
    await writer.delete('/roles/a');
    assert.deepEqual([await events.next(), await events.next(), await events.next()].map(summary), [
      'put /roles/a=v1',
      'put /roles/a=v2',
      'delete /roles/a=v2',
    ]);
  });

  it('a watcher that is not read fails once its buffer is full', async (t) => {
    const db = await openFresh(h, t, { maxBufferedEvents: 3 });
    const watcher = db.watch([]);
    const events = reader(watcher);
    assert.equal((await events.next()).type, 'init');
    for (let i = 0; i < 5; i++) await db.put({ key: `/k${i}`, value: String(i) });
    // Delivery may come after the write returns (PostgreSQL reads its events table then).
    await until('the unread watcher to fail', () => (watcher.closed ? true : undefined), 5000);
    await assert.rejects(events.next(), /fell behind/);
  });

  it('close ends watchers and rejects further use', async (t) => {
    const db = await openFresh(h, t);
    const events = reader(db.watch([]));
    await events.next();
    await db.close();
    await db.close(); // idempotent
    assert.equal(await events.ended(), true);
    await assert.rejects(db.get('/k'), code(ErrorCode.STORAGE));
    await assert.rejects(db.put({ key: '/k', value: 'v' }), code(ErrorCode.STORAGE));
    assert.throws(() => db.watch([]), code(ErrorCode.STORAGE));
  });
}
