// Finding 9 of issue 11: failed logins with a 2 MiB user name grew the database by 21 MB in five
// tries and broke the audit log's `by_user` index write. Now the event keeps a bounded name
// (64 code points and "…", with the original length), the index write works and the database
// grows by kilobytes. Real AuthServer, real AuditLog, real SQLite file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { ErrorCode, isGatehouseError } from '../../../src-shared/errors.ts';
import { MAX_AUDIT_USER_CHARS, boundedUserName } from '../../audit/audit-events.ts';
import { openAuthFixture, type AuthFixture } from './auth-fixture.ts';

const HUGE = 2 * 1024 * 1024;
// Five failed logins may add this much to the database and its WAL at most (WAL frames are whole
// 4 KiB pages: ~25 small writes); before the fix they added 21 MB.
const MAX_GROWTH_BYTES = 512 * 1024;

let fx: AuthFixture;
before(async () => {
  fx = await openAuthFixture();
});
after(() => fx.close());

const dbBytes = () =>
  [fx.dbPath, `${fx.dbPath}-wal`].reduce((n, p) => n + (statSync(p, { throwIfNoEntry: false })?.size ?? 0), 0);

test('five failed logins with a 2 MiB user name store bounded events and index them', async () => {
  const name = 'a'.repeat(HUGE);
  const before = dbBytes();
  for (let i = 0; i < 5; i++) {
    const e = await fx.auth.login(fx.loginInput(name, `guess number ${i}`)).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(isGatehouseError(e), String(e));
    // The lockout answer names the user too: bounded as well.
    assert.ok(e.message.length < 400, `error message of ${e.message.length} characters`);
    assert.ok([ErrorCode.BAD_CREDENTIALS, ErrorCode.RATE_LIMITED].includes(e.code as never), e.code);
  }
  const growth = dbBytes() - before;
  console.log(`database growth after five 2 MiB-name failures: ${growth} bytes`);
  assert.ok(growth < MAX_GROWTH_BYTES, `database grew by ${growth} bytes`);

  const events = await fx.backend.listPrefix('/audit/events/');
  assert.equal(events.length, 5);
  for (const item of events) assert.ok(item.value.length < 2048, `an event of ${item.value.length} characters`);

  const shown = 'a'.repeat(MAX_AUDIT_USER_CHARS) + '…';
  const byUser = await fx.audit.search({ user: shown, type: 'user.login' });
  assert.equal(byUser.events.length, 5, 'every failure is in the by_user index under the bounded name');
  for (const event of byUser.events) {
    assert.equal(event.user, shown);
    assert.equal(event['user_length'], HUGE);
    assert.equal(event.success, false);
  }
  assert.ok(!fx.logs.some((l) => l.length > 4096), 'no log line carries the huge name');
});

test('bounded names: short ones unchanged, long ones cut on code points, lone surrogates replaced', () => {
  assert.deepEqual(boundedUserName('alice'), { name: 'alice', truncated: false, length: 5 });
  const emoji = boundedUserName('😀'.repeat(100));
  assert.equal(emoji.name, '😀'.repeat(MAX_AUDIT_USER_CHARS) + '…');
  assert.equal(emoji.truncated, true);
  assert.equal(boundedUserName('x\ud800y').name, 'x\ufffdy');
  // Any bounded name URI-encodes short enough for the by_user index key (keys <= 1024).
  assert.ok(encodeURIComponent(boundedUserName('\u{10ffff}'.repeat(500)).name).length <= 780);
});
