import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_AUDIT_STATEMENT_JSON_BYTES, capStatement } from './db-session-audit.ts';

const jsonBytes = (s: string) => Buffer.byteLength(JSON.stringify(s), 'utf8');

test('a short statement is kept whole, whatever its characters', () => {
  for (const s of ['select 1', '\u0001'.repeat(2000), '€'.repeat(2500), '😀'.repeat(1200)]) {
    assert.deepEqual(capStatement(s), { statement: s, truncated: false });
  }
});

test('a long statement is cut to fit as JSON text, never inside a character', () => {
  const cases = ['x'.repeat(20_000), '\u0001'.repeat(5_000), '€'.repeat(6_000), '😀'.repeat(5_000)];
  for (const s of cases) {
    const capped = capStatement(s);
    assert.equal(capped.truncated, true);
    assert.ok(jsonBytes(capped.statement) <= MAX_AUDIT_STATEMENT_JSON_BYTES);
    assert.ok(s.startsWith(capped.statement));
    assert.ok(
      jsonBytes(s.slice(0, capped.statement.length + 2)) > MAX_AUDIT_STATEMENT_JSON_BYTES - 12,
      'not cut short',
    );
    const last = capped.statement.charCodeAt(capped.statement.length - 1);
    assert.ok(!(last >= 0xd800 && last <= 0xdbff), 'no lone high surrogate at the end');
  }
});

test('a statement just under the bound in escapes is kept whole (the slow check decides)', () => {
  const s = '\u0001'.repeat(Math.floor((MAX_AUDIT_STATEMENT_JSON_BYTES - 2) / 6));
  assert.deepEqual(capStatement(s), { statement: s, truncated: false });
  const longer = 'a'.repeat(MAX_AUDIT_STATEMENT_JSON_BYTES - 2);
  assert.deepEqual(capStatement(longer), { statement: longer, truncated: false });
  assert.equal(capStatement(longer + 'a').truncated, true);
});
