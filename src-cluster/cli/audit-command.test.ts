import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditDetails, formatAuditTable, parseAuditTime } from './audit-command.ts';

test('--since/--until take RFC 3339 times or a duration ago', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  assert.equal(parseAuditTime('2026-03-01T10:00:00Z', 'since', now), Date.parse('2026-03-01T10:00:00Z'));
  assert.equal(parseAuditTime('2026-03-01T10:00:00+02:00', 'since', now), Date.parse('2026-03-01T08:00:00Z'));
  assert.equal(parseAuditTime('1h', 'since', now), now - 3_600_000);
  assert.equal(parseAuditTime('1h30m', 'since', now), now - 5_400_000);
  assert.throws(() => parseAuditTime('yesterday', 'since', now), /--since "yesterday" is neither/);
  assert.throws(() => parseAuditTime('12', 'until', now), /--until "12"/);
});

test('details: the message, then the event fields; trusted_device as its device id', () => {
  const event = {
    id: 'x',
    time: '2026-03-01T12:00:00.000Z',
    type: 'session.start',
    code: 'GH2000I',
    user: 'alice',
    success: true,
    message: '',
    login: 'root',
    node: 'n1',
    roles: ['a', 'b'],
    command: 'echo hi',
    trusted_device: { device_id: 'dev-1', asset_tag: 'T', credential_id: 'c' },
  };
  assert.equal(auditDetails(event), 'login=root node=n1 roles=a,b command="echo hi" device=dev-1');
  const table = formatAuditTable([event, { ...event, success: false, message: 'unauthorized device' }]).split('\n');
  assert.match(table[0]!, /^Time\s+Type\s+Code\s+User\s+Success\s+Details$/);
  assert.match(table[2]!, /^2026-03-01T12:00:00\.000Z\s+session\.start\s+GH2000I\s+alice\s+yes\s+login=root/);
  assert.match(table[3]!, /\bno\s+unauthorized device login=root/);
});
