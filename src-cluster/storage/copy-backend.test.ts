// copyBackend between two SQLite stores (the PostgreSQL target is in integration/migrate.test.ts):
// paging past one page, batch sizes, expiries kept, a non-empty target refused, a bad copy caught.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Backend } from './backend.ts';
import { allItems, copyBackend, summarise } from './copy-backend.ts';
import { SqliteBackend } from './sqlite.ts';

async function memory(t: TestContext): Promise<SqliteBackend> {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  t.after(() => backend.close());
  return backend;
}

test('every item is copied in batches, in key order, with its expiry, and verified', async (t) => {
  const [source, target] = [await memory(t), await memory(t)];
  const expires = new Date(Date.now() + 3600_000);
  for (let i = 0; i < 2500; i += 500) {
    await source.batch(
      Array.from({ length: 500 }, (_, j) => ({
        type: 'put' as const,
        item: { key: `/audit/events/${String(i + j).padStart(5, '0')}`, value: `e${i + j}` },
      })),
    );
  }
  await source.put({ key: '/locks/l1', value: 'lock', expires });
  await source.put({ key: '/users/ann', value: 'ann' });
  const report = await copyBackend(source, target, { batchSize: 700 });
  assert.equal(report.items, 2502);
  assert.equal(report.batches, 4);
  assert.deepEqual(report.byCollection, { '/audit': 2500, '/locks': 1, '/users': 1 });
  assert.equal(report.checksum, (await summarise(source)).checksum);
  assert.equal((await target.get('/locks/l1'))?.expires?.getTime(), expires.getTime());
  const keys: string[] = [];
  for await (const item of allItems(target)) keys.push(item.key);
  assert.equal(keys.length, 2502, 'paging over more than one page yields every key once');
  assert.deepEqual(keys, [...keys].sort());
});

test('a non-empty target is refused unless forced; a target that differs afterwards fails verification', async (t) => {
  const [source, target] = [await memory(t), await memory(t)];
  await source.put({ key: '/users/ann', value: 'ann' });
  await target.put({ key: '/users/ann', value: 'stale' });
  await assert.rejects(
    copyBackend(source, target),
    (e: unknown) =>
      e instanceof GatehouseError && e.code === ErrorCode.CONFLICT && /not empty.*--force/.test(e.message),
  );
  assert.equal((await target.get('/users/ann'))?.value, 'stale', 'nothing copied');
  assert.equal((await copyBackend(source, target, { force: true })).items, 1);
  assert.equal((await target.get('/users/ann'))?.value, 'ann');
  // A target whose writes are silently lost must not pass verification.
  const empty = await memory(t);
  const lossyEmpty = { listRange: empty.listRange.bind(empty), batch: async () => [] } as unknown as Backend;
  await assert.rejects(copyBackend(source, lossyEmpty), /copy verification failed/);
  await assert.rejects(copyBackend(source, target, { batchSize: 0 }), /batch size/);
});
