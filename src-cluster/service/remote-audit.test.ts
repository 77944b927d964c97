// The remote audit emitter against a fake ClusterClient: bursts go out in batches of at most 500
// in order, events wait (bounded) while auth is unreachable and go out in order on flush, and a
// batch auth refuses is retried one by one so only the bad event is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, ConnectError } from '@connectrpc/connect';
import type { AuditEventInput } from '../audit/audit-events.ts';
import { createMemoryLogger } from '../log/logger.ts';
import type { ClusterClient } from './join-client.ts';
import { MAX_AUDIT_EVENTS_PER_CALL, MAX_QUEUED_AUDIT_EVENTS, RemoteAuditEmitter } from './remote-audit.ts';

interface Sent {
  message: string;
}

function fakeClient(opts: { down?: () => boolean; refuse?: (m: string) => boolean } = {}) {
  const calls: number[] = [];
  const stored: string[] = [];
  const check = (events: Sent[]) => {
    if (opts.down?.()) throw new ConnectError('auth away', Code.Unavailable);
    if (events.some((e) => opts.refuse?.(e.message))) throw new ConnectError('bad event', Code.InvalidArgument);
  };
  const client = {
    emitAuditEvent: async (e: Sent) => {
      await Promise.resolve();
      check([e]);
      calls.push(1);
      stored.push(e.message);
      return {};
    },
    emitAuditEvents: async (req: { events: Sent[] }) => {
      await Promise.resolve();
      check(req.events);
      calls.push(req.events.length);
      stored.push(...req.events.map((e) => e.message));
      return {};
    },
  };
  return { client: client as unknown as ClusterClient, calls, stored };
}

const event = (i: number): AuditEventInput => ({ type: 'db.session.query', success: true, message: `q${i}` });
const numbers = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `q${i + from}`);

test('a burst goes out in order, in calls of at most 500 events', async () => {
  const fake = fakeClient();
  const audit = new RemoteAuditEmitter(() => fake.client, createMemoryLogger());
  // A burst as large as the queue bound, then another one.
  await Promise.all(Array.from({ length: MAX_QUEUED_AUDIT_EVENTS }, (_, i) => audit.emit(event(i))));
  await Promise.all(Array.from({ length: 200 }, (_, i) => audit.emit(event(MAX_QUEUED_AUDIT_EVENTS + i))));
  assert.deepEqual(fake.stored, numbers(1200));
  assert.ok(fake.calls.every((n) => n <= MAX_AUDIT_EVENTS_PER_CALL));
  assert.ok(fake.calls.length <= 5, `batched: ${fake.calls.join(',')} for 1200 events`);
  assert.equal(audit.queued, 0);
});

test('while auth is away events wait, bounded, and go out in order once it is back', async () => {
  let down = true;
  const fake = fakeClient({ down: () => down });
  const log = createMemoryLogger();
  const audit = new RemoteAuditEmitter(() => fake.client, log);
  for (let i = 0; i < MAX_QUEUED_AUDIT_EVENTS + 50; i++) await audit.emit(event(i));
  assert.equal(audit.queued, MAX_QUEUED_AUDIT_EVENTS);
  assert.deepEqual(fake.stored, []);
  down = false;
  await audit.flush();
  assert.deepEqual(fake.stored, numbers(MAX_QUEUED_AUDIT_EVENTS, 50), 'the oldest 50 were dropped');
  assert.ok(log.lines.some((l) => /audit events were lost/.test(l) && /dropped=50/.test(l)));
});

test('a refused batch is sent one by one: only the refused event is lost, order kept', async () => {
  const fake = fakeClient({ refuse: (m) => m === 'q3' });
  const audit = new RemoteAuditEmitter(() => fake.client, createMemoryLogger());
  await Promise.all(Array.from({ length: 6 }, (_, i) => audit.emit(event(i))));
  assert.deepEqual(fake.stored, ['q0', 'q1', 'q2', 'q4', 'q5']);
  assert.equal(audit.queued, 0);
});
