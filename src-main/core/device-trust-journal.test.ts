// The trust-error journal: newest first, capped at 20, 0600, a damaged file reads as empty and
// a journal that cannot be written never throws (it must not hide the real error).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../src-shared/errors.ts';
import { DeviceTrustJournal, JOURNAL_LIMIT } from './device-trust-journal.ts';

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('entries come back newest first, with time, step and cluster; only the last 20 are kept', (t) => {
  const dir = tmp(t);
  let n = 0;
  const journal = new DeviceTrustJournal(dir, () => new Date(Date.UTC(2026, 11, 7, 10, 0, n++)));
  assert.deepEqual(journal.recent(), []);
  journal.record({ code: ErrorCode.BAD_CREDENTIALS, message: 'token spent', step: 'check-tpm', cluster: 'prod' });
  journal.record({ code: ErrorCode.TPM_PERMISSION_DENIED, message: 'no access' });
  assert.deepEqual(journal.recent(5), [
    { at: '2026-12-07T10:00:01.000Z', code: 'TPM_PERMISSION_DENIED', message: 'no access' },
    {
      at: '2026-12-07T10:00:00.000Z',
      code: 'BAD_CREDENTIALS',
      message: 'token spent',
      step: 'check-tpm',
      cluster: 'prod',
    },
  ]);
  assert.equal(statSync(journal.path).mode & 0o777, 0o600);
  assert.equal(journal.recent(1).length, 1);
  assert.deepEqual(journal.recent(0), []);

  for (let i = 0; i < 30; i++) journal.record({ code: ErrorCode.TPM_ERROR, message: `e${i}` });
  const all = journal.recent(100);
  assert.equal(all.length, JOURNAL_LIMIT);
  assert.equal(all[0]!.message, 'e29');
  assert.equal(all.at(-1)!.message, 'e10');
});

test('a damaged journal reads as empty and is replaced; an unwritable one does not throw', (t) => {
  const dir = tmp(t);
  const journal = new DeviceTrustJournal(dir);
  writeFileSync(journal.path, '{ not json');
  assert.deepEqual(journal.recent(), []);
  journal.record({ code: ErrorCode.TPM_ERROR, message: 'x'.repeat(5000) });
  const [entry] = journal.recent();
  assert.ok(entry!.message.length <= 1001, 'long messages are cut');

  const blocked = new DeviceTrustJournal(join(dir, 'file-not-dir'));
  writeFileSync(join(dir, 'file-not-dir'), '');
  chmodSync(join(dir, 'file-not-dir'), 0o400);
  assert.doesNotThrow(() => blocked.record({ code: ErrorCode.TPM_ERROR, message: 'lost' }));
  assert.deepEqual(blocked.recent(), []);
});
