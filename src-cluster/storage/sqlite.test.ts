// SQLite-only behaviour: several processes on one file, WAL and file modes, pruned events, timers.
// The backend contract itself is proven by sqlite-conformance.test.ts (test-support/ suites).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { prefixEnd, type Watcher } from './backend.ts';
import { SqliteBackend, type SqliteBackendOptions } from './sqlite.ts';
import { reader as readWatch } from './test-support/conformance-kit.ts';

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

/** The conformance suite's watch reader, with this file's 2 s wait. */
const reader = (watcher: Watcher) => readWatch(watcher, 2000);

function code(c: string) {
  return (e: unknown) => e instanceof GatehouseError && e.code === c;
}

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

test('prefixEnd is the tightest upper bound', () => {
  assert.equal(prefixEnd('/a'), '/b');
  assert.equal(prefixEnd('/a\uD7FF'), '/a\uE000');
  assert.equal(prefixEnd('/a\u{10FFFF}'), '/b');
  assert.equal(prefixEnd('\u{10FFFF}'), undefined);
  assert.equal(prefixEnd(''), undefined);
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
