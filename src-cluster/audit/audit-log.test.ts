import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { SqliteBackend } from '../storage/sqlite.ts';
import { AuditLog, auditCode, type AuditEvent, type AuditQuery } from './audit-log.ts';
import type { AuditEventType } from './audit-events.ts';

function tempDb(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-audit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'gatehouse.db');
}

async function open(t: TestContext, path = ':memory:'): Promise<SqliteBackend> {
  const backend = await SqliteBackend.open({ path });
  t.after(() => backend.close());
  return backend;
}

/** A clock the test moves: each call returns the current value. */
function clock(startIso = '2026-01-01T00:00:00.000Z') {
  let now = Date.parse(startIso);
  return { now: () => now, advance: (ms: number) => (now += ms), set: (iso: string) => (now = Date.parse(iso)) };
}

async function all(log: AuditLog, query: AuditQuery): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await log.search({ ...query, cursor });
    out.push(...page.events);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
  throw new Error('paging did not end');
}

test('emit stores id, time, type, code, user, success, message and the fields at the top level', async (t) => {
  const c = clock();
  const log = new AuditLog(await open(t), { now: c.now });
  const stored = await log.append({
    type: 'user.login',
    success: false,
    user: 'alice',
    message: 'bad password',
    fields: { method: 'password', addr: '10.0.0.1:5000' },
  });
  assert.match(stored.id, /^[0-9a-f-]{36}$/);
  const [event] = (await log.search({})).events;
  assert.deepEqual(event, {
    id: stored.id,
    time: '2026-01-01T00:00:00.000Z',
    type: 'user.login',
    code: 'GH1000W',
    user: 'alice',
    success: false,
    message: 'bad password',
    method: 'password',
    addr: '10.0.0.1:5000',
  });
  assert.equal(auditCode('session.end', true), 'GH2004I');
});

test('reserved field names and unknown types are refused instead of silently overwritten', async (t) => {
  const log = new AuditLog(await open(t));
  await assert.rejects(log.emit({ type: 'user.login', success: true, fields: { user: 'mallory' } }), /reserved/);
  await assert.rejects(log.emit({ type: 'nope' as AuditEventType, success: true }), /unknown audit event type/);
  assert.equal((await log.search({})).events.length, 0);
});

test('events come newest first by default and oldest first with order asc, including within one millisecond', async (t) => {
  const c = clock();
  const log = new AuditLog(await open(t), { now: c.now });
  for (let i = 0; i < 5; i++) await log.emit({ type: 'cert.create', success: true, message: `same-ms-${i}` });
  c.advance(1);
  await log.emit({ type: 'cert.create', success: true, message: 'later' });
  const desc = (await log.search({})).events.map((e) => e.message);
  assert.deepEqual(desc, ['later', 'same-ms-4', 'same-ms-3', 'same-ms-2', 'same-ms-1', 'same-ms-0']);
  const asc = (await log.search({ order: 'asc' })).events.map((e) => e.message);
  assert.deepEqual(asc, [...desc].reverse());
});

test('filters by time range (since inclusive, until exclusive), type, user and type+user', async (t) => {
  const c = clock();
  const log = new AuditLog(await open(t), { now: c.now });
  const types: AuditEventType[] = ['user.login', 'session.start', 'session.end'];
  for (let i = 0; i < 30; i++) {
    await log.emit({ type: types[i % 3]!, success: true, user: i % 2 ? 'bob/ops' : 'alice', message: String(i) });
    c.advance(60_000);
  }
  const at = (i: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + i * 60_000);
  const range = await all(log, { since: at(10), until: at(20), order: 'asc', limit: 3 });
  assert.deepEqual(
    range.map((e) => e.message),
    ['10', '11', '12', '13', '14', '15', '16', '17', '18', '19'],
  );
  const starts = await all(log, { type: 'session.start', limit: 4 });
  assert.equal(starts.length, 10);
  assert.ok(starts.every((e) => e.type === 'session.start'));
  const bob = await all(log, { user: 'bob/ops', limit: 7 });
  assert.deepEqual(
    bob.map((e) => Number(e.message)),
    [29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1],
  );
  const bobEnds = await all(log, { user: 'bob/ops', type: 'session.end', limit: 2, order: 'asc' });
  assert.deepEqual(
    bobEnds.map((e) => Number(e.message)),
    [5, 11, 17, 23, 29],
  );
  assert.deepEqual((await log.search({ user: 'bob' })).events, []);
});

test('paging visits every event exactly once in both orders across dense and sparse stretches', async (t) => {
  const c = clock();
  const log = new AuditLog(await open(t), { now: c.now });
  const expected: string[] = [];
  // 900 events in one millisecond (denser than a scan window), then a sparse tail over days.
  for (let i = 0; i < 900; i++) expected.push((await log.append({ type: 'device.enroll', success: true })).id);
  for (let i = 0; i < 40; i++) {
    c.advance(i * 3_600_000);
    expected.push((await log.append({ type: 'device.enroll', success: true })).id);
  }
  for (const limit of [1, 7, 100, 1000]) {
    const asc = await all(log, { order: 'asc', limit });
    assert.deepEqual(
      asc.map((e) => e.id),
      expected,
      `asc, limit ${limit}`,
    );
    const desc = await all(log, { order: 'desc', limit, type: 'device.enroll' });
    assert.deepEqual(
      desc.map((e) => e.id),
      [...expected].reverse(),
      `desc, limit ${limit}`,
    );
  }
  const first = await log.search({ limit: 10 });
  await assert.rejects(
    log.search({ limit: 10, order: 'asc', cursor: first.nextCursor }),
    /cursor is not valid/,
    'a desc cursor must not be accepted for an asc query',
  );
  await assert.rejects(log.search({ limit: 0 }), /limit must be/);
});

test('append-only: later events never change stored ones and the log offers no update or delete', async (t) => {
  const backend = await open(t);
  const log = new AuditLog(backend);
  await log.emit({ type: 'resource.delete', success: true, user: 'admin', fields: { kind: 'role', name: 'x' } });
  const before = await backend.listPrefix('/audit/');
  for (let i = 0; i < 50; i++) await log.emit({ type: 'resource.update', success: true, user: 'admin' });
  const after = await backend.listPrefix('/audit/');
  for (const item of before) {
    const same = after.find((a) => a.key === item.key);
    assert.deepEqual(same, item, `${item.key} changed`);
  }
  const methods = Object.getOwnPropertyNames(AuditLog.prototype);
  assert.deepEqual(methods.sort(), [
    'append',
    'appendMany',
    'constructor',
    'emit',
    'emitMany',
    'observeStored',
    'search',
    'writesIn',
  ]);
  // writesIn hands out writes for another store's transaction: creates only, like append.
  const writes = log.writesIn(backend, [{ type: 'resource.update', success: true, user: 'admin' }]);
  assert.deepEqual([...new Set(writes!.ops.map((op) => op.type))], ['create']);
});

test("writesIn: the events stored by the caller's own transaction, found as appended ones are; another storage gets none", async (t) => {
  const backend = await open(t);
  const time = clock();
  const log = new AuditLog(backend, { now: time.now });
  const observed: string[] = [];
  class Observed extends AuditLog {
    protected override observeStored(inputs: readonly { type: string }[]): void {
      observed.push(...inputs.map((i) => i.type));
    }
  }
  const counted = new Observed(backend, { now: time.now });
  const events = [
    { type: 'device.authenticate' as const, success: true, user: 'dana', fields: { client_address: 'x' } },
    { type: 'cert.create' as const, success: true, user: 'dana' },
  ];
  assert.equal(log.writesIn(await open(t), events), undefined, 'a log never writes into storage it does not own');
  const w = counted.writesIn(backend, events)!;
  await backend.batch([{ type: 'create', item: { key: '/test/other-store/1', value: '' } }, ...w.ops]);
  w.stored();
  assert.deepEqual(observed, ['device.authenticate', 'cert.create']);
  const found = await all(log, { user: 'dana' });
  assert.deepEqual(found.map((e) => e.type).sort(), ['cert.create', 'device.authenticate']);
  assert.deepEqual(
    (await all(log, { type: 'cert.create' })).map((e) => e.user),
    ['dana'],
  );
  assert.throws(() => log.writesIn(backend, [{ type: 'no.such' as AuditEventType, success: true }]));
});

test('events survive closing and reopening the SQLite file (emit resolves only after the write)', async (t) => {
  const path = tempDb(t);
  const first = await SqliteBackend.open({ path });
  const log = new AuditLog(first);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await log.append({ type: 'session.start', success: true, user: 'carol' })).id);
  await first.close();
  const reopened = new AuditLog(await open(t, path));
  const back = await reopened.search({ user: 'carol', order: 'asc' });
  assert.deepEqual(
    back.events.map((e) => e.id),
    ids,
  );
});

test('a storage failure makes emit reject with STORAGE naming the event', async () => {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  const log = new AuditLog(backend);
  await backend.close();
  await assert.rejects(
    log.emit({ type: 'cert.create', success: true }),
    (e: unknown) =>
      e instanceof GatehouseError && e.code === ErrorCode.STORAGE && /record cert\.create/.test(e.message),
  );
});

test('appendMany stores a burst in one transaction, in order and indexed; a bad event stores none', async (t) => {
  const backend = await open(t);
  const c = clock();
  const log = new AuditLog(backend, { now: c.now });
  const burst = Array.from({ length: 500 }, (_, i) => ({
    type: 'db.session.query' as const,
    success: true,
    user: 'alice',
    fields: { statement: `select ${i}`, session_id: 's1' },
  }));
  let batches = 0;
  const batch = backend.batch.bind(backend);
  backend.batch = (ops) => {
    batches++;
    return batch(ops);
  };
  const started = performance.now();
  const stored = await log.appendMany(burst);
  // One transaction of 1500 keys must stay short: it holds the storage write lock.
  assert.ok(performance.now() - started < 2000, `${performance.now() - started} ms`);
  assert.equal(batches, 1);
  assert.equal(stored.length, 500);
  const asc = await all(log, { type: 'db.session.query', order: 'asc', limit: 1000 });
  assert.deepEqual(
    asc.map((e) => e['statement']),
    burst.map((b) => b.fields.statement),
  );
  assert.equal((await all(log, { user: 'alice', limit: 1000 })).length, 500);
  await assert.rejects(
    log.emitMany([burst[0]!, { type: 'no.such' as AuditEventType, success: true }]),
    (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.BAD_REQUEST,
  );
  assert.equal((await all(log, { limit: 1000 })).length, 500);
  assert.deepEqual(await log.appendMany([]), []);
});
