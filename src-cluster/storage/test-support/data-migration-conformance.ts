// Test-only: Backend.runDataMigration as one suite both backends run. A data migration reads the
// live items under its prefixes, writes what its plan makes of them in one transaction that also
// records its id, and never runs twice on one database, even from two instances at once.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../src-shared/errors.ts';
import type { DataMigration, Item } from '../backend.ts';
import { code, openFresh, type BackendHarness } from './conformance-kit.ts';

/** Copies every `/old/x` to `/new/x` (create: a second application would fail loudly). */
function copyMigration(id: string, seen: Item[][] = []): DataMigration {
  return {
    id,
    description: 'copy /old/ to /new/',
    prefixes: ['/old/'],
    plan: (items) => {
      seen.push(items);
      return items.map((i) => ({ type: 'create', item: { key: `/new/${i.key.slice(5)}`, value: i.value } }));
    },
  };
}

export function runDataMigrationConformance(h: BackendHarness): void {
  const it = (name: string, fn: (t: TestContext) => Promise<void>): void => void test(`${h.name}: ${name}`, fn);

  it('a data migration sees the live items under its prefixes, writes its plan and runs once', async (t) => {
    const db = await openFresh(h, t);
    await db.put({ key: '/old/a', value: '1' });
    await db.put({ key: '/old/b', value: '2' });
    await db.put({ key: '/older', value: 'not under /old/' });
    const seen: Item[][] = [];
    assert.equal(await db.runDataMigration(copyMigration('copy-1', seen)), true);
    assert.deepEqual(
      seen[0]!.map((i) => [i.key, i.value]),
      [
        ['/old/a', '1'],
        ['/old/b', '2'],
      ],
    );
    assert.deepEqual(
      (await db.listPrefix('/new/')).map((i) => [i.key, i.value]),
      [
        ['/new/a', '1'],
        ['/new/b', '2'],
      ],
    );
    assert.equal(await db.runDataMigration(copyMigration('copy-1', seen)), false, 'recorded: not run again');
    assert.equal(seen.length, 1, 'the plan was not even asked the second time');
  });

  it('a failing plan write rolls the whole migration back and leaves it unrecorded', async (t) => {
    const db = await openFresh(h, t);
    await db.put({ key: '/old/a', value: '1' });
    await db.put({ key: '/old/b', value: '2' });
    await db.put({ key: '/new/b', value: 'already there' });
    await assert.rejects(db.runDataMigration(copyMigration('copy-2')), code(ErrorCode.ALREADY_EXISTS));
    assert.equal(await db.get('/new/a'), undefined, 'the op before the failed one was rolled back');
    await db.delete('/new/b');
    assert.equal(await db.runDataMigration(copyMigration('copy-2')), true, 'not recorded, so it runs after the fix');
    assert.equal((await db.get('/new/b'))?.value, '2');
  });

  it('two instances migrating at once: exactly one applies it', async (t) => {
    const store = await h.store(t);
    const [a, b] = [await store.open(), await store.open()];
    await a.put({ key: '/old/x', value: 'x' });
    const results = await Promise.all([
      a.runDataMigration(copyMigration('copy-3')),
      b.runDataMigration(copyMigration('copy-3')),
    ]);
    assert.deepEqual(results.sort(), [false, true]);
    assert.equal((await b.get('/new/x'))?.value, 'x');
  });

  it("a migration's writes reach watchers like any write", async (t) => {
    const db = await openFresh(h, t);
    await db.put({ key: '/old/w', value: 'w' });
    const watcher = db.watch(['/new/']);
    t.after(() => watcher.close());
    await db.runDataMigration(copyMigration('copy-4'));
    for await (const event of watcher) {
      if (event.type === 'init') continue;
      assert.equal(event.type, 'put');
      assert.equal(event.type === 'put' ? event.item.key : '', '/new/w');
      break;
    }
  });
}
