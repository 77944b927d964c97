// Test-only: Backend.batch as one suite every backend runs: several writes with preconditions in
// one transaction, all or nothing, seen by watchers only once committed and in op order.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { MAX_BATCH_OPS, type Backend, type BatchOp, type WatchEvent } from '../backend.ts';
import { openFresh, type BackendHarness } from './conformance-kit.ts';

async function dump(backend: Backend): Promise<string[]> {
  return (await backend.listPrefix('/')).map((i) => `${i.key}=${i.value}@${i.revision}`);
}

function rejectsWith(code: ErrorCode, op?: number) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof GatehouseError, `expected a GatehouseError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (op !== undefined) assert.equal(e.details?.['op'], op, e.message);
    return true;
  };
}

export function runBatchConformance(h: BackendHarness): void {
  const it = (name: string, fn: (t: TestContext) => Promise<void>): void => void test(`${h.name}: ${name}`, fn);

  it('batch applies every op in order in one transaction', async (t) => {
    const b = await openFresh(h, t);
    const old = await b.put({ key: '/x/old', value: 'o' });
    const gone = await b.put({ key: '/x/gone', value: 'g' });
    const results = await b.batch([
      { type: 'create', item: { key: '/users/ann', value: 'user' } },
      { type: 'put', item: { key: '/credentials/ann', value: 'cred', expires: new Date(Date.now() + 60_000) } },
      {
        type: 'compareAndSwap',
        expected: { key: '/x/old', revision: old.revision },
        item: { key: '/x/old', value: 'n' },
      },
      { type: 'delete', key: '/x/gone' },
      { type: 'check', key: '/users/ann' },
    ]);
    assert.equal(results.length, 5);
    assert.deepEqual(
      results.map((r) => r?.revision),
      [gone.revision + 1, gone.revision + 2, gone.revision + 3, undefined, undefined],
    );
    assert.ok(results[1]?.expires instanceof Date);
    assert.deepEqual(await dump(b), [
      `/credentials/ann=cred@${gone.revision + 2}`,
      `/users/ann=user@${gone.revision + 1}`,
      `/x/old=n@${gone.revision + 3}`,
    ]);
  });

  it('one failed precondition leaves nothing written and names the op', async (t) => {
    const b = await openFresh(h, t);
    const taken = await b.put({ key: '/users/bob', value: 'bob' });
    const before = await dump(b);
    const cases: { ops: BatchOp[]; code: ErrorCode; op: number }[] = [
      {
        ops: [
          { type: 'create', item: { key: '/credentials/bob', value: 'c' } },
          { type: 'create', item: { key: '/users/bob', value: 'again' } },
        ],
        code: ErrorCode.ALREADY_EXISTS,
        op: 1,
      },
      {
        ops: [
          { type: 'put', item: { key: '/a', value: '1' } },
          {
            type: 'compareAndSwap',
            expected: { key: '/users/bob', revision: taken.revision + 7 },
            item: { key: '/users/bob', value: 'x' },
          },
        ],
        code: ErrorCode.CONFLICT,
        op: 1,
      },
      {
        ops: [
          { type: 'put', item: { key: '/a', value: '1' } },
          { type: 'delete', key: '/users/bob' },
          { type: 'delete', key: '/nope' },
        ],
        code: ErrorCode.NOT_FOUND,
        op: 2,
      },
      {
        ops: [
          { type: 'check', key: '/users/carol' },
          { type: 'put', item: { key: '/credentials/carol', value: 'c' } },
        ],
        code: ErrorCode.CONFLICT,
        op: 0,
      },
      {
        ops: [
          { type: 'put', item: { key: '/a', value: '1' } },
          { type: 'check', key: '/users/bob', revision: taken.revision + 1 },
        ],
        code: ErrorCode.CONFLICT,
        op: 1,
      },
    ];
    for (const c of cases) {
      await assert.rejects(b.batch(c.ops), rejectsWith(c.code, c.op));
      assert.deepEqual(await dump(b), before, `nothing may change after a failed ${c.code} batch`);
    }
    // The revision counter rolled back too: the next write follows the last successful one.
    assert.equal((await b.put({ key: '/after', value: '' })).revision, taken.revision + 1);
  });

  it('watchers see a batch once it committed, in op order, and nothing of a failed one', async (t) => {
    const b = await openFresh(h, t);
    const watcher = b.watch(['/d/']);
    t.after(() => watcher.close());
    const it = watcher[Symbol.asyncIterator]();
    const next = async (): Promise<WatchEvent> => {
      const r = await it.next();
      assert.ok(!r.done, 'watcher ended');
      return r.value;
    };
    assert.equal((await next()).type, 'init');
    await b.put({ key: '/d/held', value: '' });
    await assert.rejects(
      b.batch([
        { type: 'create', item: { key: '/d/lost', value: '' } },
        { type: 'create', item: { key: '/d/held', value: '' } },
      ]),
      rejectsWith(ErrorCode.ALREADY_EXISTS, 1),
    );
    await b.batch([
      { type: 'create', item: { key: '/d/one', value: '1' } },
      { type: 'create', item: { key: '/d/two', value: '2' } },
    ]);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const e = await next();
      seen.push(e.type === 'init' ? 'init' : `${e.type} ${e.item.key}`);
    }
    assert.deepEqual(seen, ['put /d/held', 'put /d/one', 'put /d/two']);
  });

  it('bad batches are refused before anything is written', async (t) => {
    const b = await openFresh(h, t);
    const tooMany: BatchOp[] = Array.from({ length: MAX_BATCH_OPS + 1 }, (_, i) => ({
      type: 'put',
      item: { key: `/k/${i}`, value: '' },
    }));
    await assert.rejects(b.batch([]), rejectsWith(ErrorCode.BAD_REQUEST));
    await assert.rejects(b.batch(tooMany), /1-2048 ops, got 2049/);
    await assert.rejects(
      b.batch([
        { type: 'put', item: { key: '/ok', value: '' } },
        { type: 'compareAndSwap', expected: { key: '/a', revision: 1 }, item: { key: '/b', value: '' } },
      ]),
      /compare-and-swap keys differ/,
    );
    await assert.rejects(
      b.batch([
        { type: 'put', item: { key: '/ok', value: '' } },
        { type: 'put', item: { key: 'no-slash', value: '' } },
      ]),
      rejectsWith(ErrorCode.BAD_REQUEST),
    );
    assert.deepEqual(await dump(b), []);
  });
}
