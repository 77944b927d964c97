// The per-session rate limit of app.session.request (20 at once, 5 per second after that): a
// burst is written up to the budget, the rest is counted and rides on the next written event and
// on app.session.end; the start/end events carry the fields of docs/app-access.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEventInput } from '../audit/audit-events.ts';
import { createMemoryLogger } from '../log/logger.ts';
import { AppSessionAudit, auditPath, MAX_AUDIT_PATH_CHARS } from './app-session-audit.ts';

function session(now: { t: number }) {
  const events: AuditEventInput[] = [];
  const audit = new AppSessionAudit({
    audit: { emit: async (e) => void events.push(e) },
    log: createMemoryLogger('warn'),
    user: 'alice',
    app: 'grafana',
    kind: 'http',
    clientAddress: '10.0.0.1:4000',
    now: () => now.t,
  });
  return { audit, events };
}

const record = { method: 'GET', url: '/a?token=secret', status: 200, bytesIn: 10, bytesOut: 20, durationMs: 1 };

test('a burst of 100 requests writes 20 events; the rest is counted and carried on', async () => {
  const now = { t: 1_000_000 };
  const { audit, events } = session(now);
  audit.appUri = 'http://127.0.0.1:3000';
  await audit.started();
  for (let i = 0; i < 100; i++) audit.request(record);
  const requests = () => events.filter((e) => e.type === 'app.session.request');
  assert.equal(requests().length, 20);
  assert.equal(requests()[0]!.fields?.['path'], '/a', 'the query string is never recorded');
  assert.equal(requests()[0]!.fields?.['unlogged_requests'], undefined);

  now.t += 1_000; // 5 tokens back
  for (let i = 0; i < 6; i++) audit.request(record);
  assert.equal(requests().length, 25);
  assert.equal(requests()[20]!.fields?.['unlogged_requests'], 80, 'the count rides on the next written event');
  assert.equal(requests()[21]!.fields?.['unlogged_requests'], undefined);

  await audit.ended({ bytesIn: 1, bytesOut: 2 }, 'lock in force');
  const end = events.find((e) => e.type === 'app.session.end')!;
  assert.equal(end.fields?.['requests'], 106);
  assert.equal(end.fields?.['unlogged_requests'], 81);
  assert.equal(end.fields?.['reason'], 'lock in force');
  assert.equal(end.fields?.['duration_ms'], 1_000);
  const start = events.find((e) => e.type === 'app.session.start')!;
  assert.equal(start.fields?.['app_uri'], 'http://127.0.0.1:3000');
  assert.equal(start.fields?.['kind'], 'http');
});

test('a steady 5 requests per second is written in full', () => {
  const now = { t: 0 };
  const { audit, events } = session(now);
  for (let i = 0; i < 200; i++) {
    now.t += 200;
    audit.request(record);
  }
  assert.equal(events.length, 200);
});

test('audit paths: query removed, long paths cut', () => {
  assert.equal(auditPath('/x/y?z=1'), '/x/y');
  assert.equal(auditPath('/' + 'a'.repeat(5000)).length, MAX_AUDIT_PATH_CHARS);
});
