// AuditMetrics: logins and device authentications counted from auth's stored events, sessions
// from the services' own emitters, the gauge never driven below zero, and a refused event
// (the audit log could not store it) never counted as a session that started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEventInput } from '../audit/audit-events.ts';
import { SqliteBackend } from '../storage/sqlite.ts';
import { AuditMetrics, MeteredAuditLog } from './metered-audit.ts';
import { ProcessMetrics } from './metrics.ts';
import { metricValue } from './test-support/scrape.ts';

function setup() {
  const metrics = new ProcessMetrics('test', { defaultMetrics: false });
  const value = async (name: string, labels: Record<string, string>) =>
    metricValue((await metrics.scrape()).body, name, labels);
  return { metrics, audit: new AuditMetrics(metrics), value };
}

const session = (type: string, id: string, success = true): AuditEventInput =>
  ({ type, success, user: 'u', fields: { session_id: id } }) as AuditEventInput;

test("auth's audit log counts logins and device authentications by result once stored", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-metered-audit-'));
  const backend = await SqliteBackend.open({ path: join(dir, 'db.sqlite') });
  t.after(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { audit, value } = setup();
  const log = new MeteredAuditLog(backend, audit);
  await log.emit({ type: 'user.login', success: true, user: 'alice' });
  await log.emit({ type: 'user.login', success: false, user: 'alice', message: 'wrong password' });
  await log.emitMany([
    { type: 'device.authenticate', success: true, user: 'alice' },
    { type: 'device.authenticate', success: false, user: 'bob' },
    { type: 'device.authenticate', success: false, user: 'bob' },
  ]);
  assert.equal(await value('gatehouse_logins_total', { result: 'success' }), 1);
  assert.equal(await value('gatehouse_logins_total', { result: 'failure' }), 1);
  assert.equal(await value('gatehouse_device_authentications_total', { result: 'success' }), 1);
  assert.equal(await value('gatehouse_device_authentications_total', { result: 'failure' }), 2);
  assert.equal((await log.search({})).events.length, 5, 'the events are stored as by AuditLog');
  // Session events reach auth's log from every service; auth does not count them (the services do).
  await log.emit(session('session.start', 's1'));
  assert.equal(await value('gatehouse_active_sessions', { kind: 'ssh' }), 0);
});

test('a wrapped emitter counts sessions by kind while open; a stray end never goes below zero', async () => {
  const { audit, value } = setup();
  const stored: AuditEventInput[] = [];
  const emitter = audit.wrap({ emit: async (e) => void stored.push(e) });
  await emitter.emit(session('session.start', 'a'));
  await emitter.emit(session('db.session.start', 'b'));
  await emitter.emit(session('app.session.start', 'c'));
  await emitter.emit(session('db.session.start', 'refused', false));
  assert.equal(await value('gatehouse_active_sessions', { kind: 'ssh' }), 1);
  assert.equal(await value('gatehouse_active_sessions', { kind: 'db' }), 1, 'a refused start is not a session');
  assert.equal(await value('gatehouse_active_sessions', { kind: 'app' }), 1);
  await emitter.emit(session('session.end', 'a'));
  await emitter.emit(session('session.end', 'a'));
  await emitter.emit(session('db.session.end', 'never-started'));
  assert.equal(await value('gatehouse_active_sessions', { kind: 'ssh' }), 0);
  assert.equal(await value('gatehouse_active_sessions', { kind: 'db' }), 1);
  assert.equal(stored.length, 7, 'every event still reaches the inner emitter');
});

test('a start the audit log refused is not counted; an end it refused still closes the session', async () => {
  const { audit, value } = setup();
  let refuse = true;
  const emitter = audit.wrap({
    emit: async () => {
      if (refuse) throw new Error('storage down');
    },
  });
  await assert.rejects(emitter.emit(session('session.start', 'x')), /storage down/);
  assert.equal(await value('gatehouse_active_sessions', { kind: 'ssh' }), 0);
  refuse = false;
  await emitter.emit(session('session.start', 'y'));
  assert.equal(await value('gatehouse_active_sessions', { kind: 'ssh' }), 1);
  refuse = true;
  await assert.rejects(emitter.emit(session('session.end', 'y')), /storage down/);
  assert.equal(await value('gatehouse_active_sessions', { kind: 'ssh' }), 0);
});
