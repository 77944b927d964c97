// MeteredBackend over a real SQLite file: every call is timed under its op and result, the
// decorated backend still behaves as the Backend contract says, and watch delivery of this
// process's own writes is measured (lag histogram, revisions behind).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, isGatehouseError } from '../../src-shared/errors.ts';
import { SqliteBackend } from '../storage/sqlite.ts';
import type { WatchEvent } from '../storage/backend.ts';
import { MeteredBackend } from './metered-backend.ts';
import { ProcessMetrics } from './metrics.ts';
import { metricValue } from './test-support/scrape.ts';

async function open(t: import('node:test').TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'gh-metered-'));
  const path = join(dir, 'db.sqlite');
  const metrics = new ProcessMetrics('test', { defaultMetrics: false });
  const backend = new MeteredBackend(await SqliteBackend.open({ path }), metrics);
  t.after(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const value = async (name: string, labels: Record<string, string> = {}) =>
    metricValue((await metrics.scrape()).body, name, labels) ?? 0;
  return { backend, metrics, value, path };
}

test('each call is timed under its op, failures under result="error", and results pass through', async (t) => {
  const { backend, value } = await open(t);
  const created = await backend.create({ key: '/a', value: '1' });
  assert.equal((await backend.get('/a'))?.value, '1');
  await backend.compareAndSwap({ key: '/a', revision: created.revision }, { key: '/a', value: '2' });
  await assert.rejects(
    backend.compareAndSwap({ key: '/a', revision: created.revision }, { key: '/a', value: '3' }),
    (e) => isGatehouseError(e) && e.code === ErrorCode.CONFLICT,
  );
  await backend.batch([{ type: 'put', item: { key: '/b', value: 'x' } }]);
  assert.deepEqual(
    (await backend.listPrefix('/')).map((i) => i.key),
    ['/a', '/b'],
  );
  await backend.delete('/b');
  const count = 'gatehouse_backend_operation_duration_seconds_count';
  assert.equal(await value(count, { op: 'create', result: 'ok' }), 1);
  assert.equal(await value(count, { op: 'get', result: 'ok' }), 1);
  assert.equal(await value(count, { op: 'compare_and_swap', result: 'ok' }), 1);
  assert.equal(await value(count, { op: 'compare_and_swap', result: 'error' }), 1);
  assert.equal(await value(count, { op: 'batch', result: 'ok' }), 1);
  assert.equal(await value(count, { op: 'list_prefix', result: 'ok' }), 1);
  assert.equal(await value(count, { op: 'delete', result: 'ok' }), 1);
});

test('a watcher delivering its own process writes records their lag; revisions behind returns to 0', async (t) => {
  const { backend, value } = await open(t);
  const watcher = backend.watch(['/w/']);
  const events: WatchEvent[] = [];
  const done = (async () => {
    for await (const e of watcher) {
      events.push(e);
      if (events.length === 3) break;
    }
  })();
  // The watch is live once init arrives; writes from then on are delivered.
  while (events.length === 0) await new Promise((r) => setTimeout(r, 5));
  await backend.put({ key: '/w/1', value: 'a' });
  await backend.put({ key: '/other', value: 'not watched' });
  await backend.put({ key: '/w/2', value: 'b' });
  await done;
  assert.deepEqual(
    events.map((e) => e.type),
    ['init', 'put', 'put'],
  );
  const lag = 'gatehouse_watcher_lag_seconds_count';
  assert.equal(await value(lag, { writer: 'this_process' }), 2, 'both watched writes were timed');
  assert.equal(await value(lag, { writer: 'another_process' }), 0, 'none is taken for another writer');
  assert.equal(backend.revisionsBehind(), 0, 'a finished watcher is no longer counted');
  watcher.close();
});

test('revisions behind counts only writes under the prefixes a watcher follows', async (t) => {
  const { backend, value } = await open(t);
  const watcher = backend.watch(['/w/']);
  const iterator = watcher[Symbol.asyncIterator]();
  assert.equal((await iterator.next()).value?.type, 'init');
  await backend.put({ key: '/other', value: 'x' });
  assert.equal(backend.revisionsBehind(), 0, 'a write it does not watch is not lag');
  const written = await backend.put({ key: '/w/1', value: 'y' });
  assert.ok(backend.revisionsBehind() > 0, 'a watched write not yet delivered');
  assert.equal(await value('gatehouse_watcher_revisions_behind'), backend.revisionsBehind());
  const next = await iterator.next();
  assert.equal(next.value?.type === 'put' && next.value.item.revision, written.revision);
  assert.equal(backend.revisionsBehind(), 0);
  watcher.close();
});

test("another process's write is timed from the commit time the change feed carries, under writer=another_process", async (t) => {
  const { backend, value, path } = await open(t);
  // A second connection to the same file: to this backend, a write of another process.
  const other = await SqliteBackend.open({ path });
  t.after(() => other.close());
  const watcher = backend.watch(['/w/']);
  const applied: WatchEvent[] = [];
  const done = (async () => {
    for await (const e of watcher) {
      applied.push(e);
      if (e.type === 'put') break;
    }
  })();
  while (applied.length === 0) await new Promise((r) => setTimeout(r, 5));
  await other.put({ key: '/w/elsewhere', value: 'x' });
  await done;
  const put = applied.find((e) => e.type === 'put');
  assert.ok(put && put.type === 'put' && typeof put.committedAt === 'number', 'the feed carries the commit time');
  const lag = 'gatehouse_watcher_lag_seconds_count';
  // Classified one turn of the event loop after delivery (a local write could still claim it).
  for (let i = 0; i < 100 && (await value(lag, { writer: 'another_process' })) === 0; i++) {
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(await value(lag, { writer: 'another_process' }), 1);
  assert.equal(await value(lag, { writer: 'this_process' }), 0);
  watcher.close();
});
