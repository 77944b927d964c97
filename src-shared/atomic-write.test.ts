import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from './errors.ts';
import { writeFileAtomicSync } from './atomic-write.ts';

const modeOf = (p: string): number => statSync(p).mode & 0o777;

function inTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-atomic-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('replaces the whole file, 0600 by default, and leaves no temp file behind', () => {
  inTempDir((dir) => {
    const f = join(dir, 'key.pem');
    writeFileAtomicSync(f, 'first version, rather long\n');
    writeFileAtomicSync(f, Buffer.from('second\n'));
    assert.equal(readFileSync(f, 'utf8'), 'second\n');
    assert.equal(modeOf(f), 0o600);
    assert.deepEqual(readdirSync(dir), ['key.pem']);
  });
});

test('an existing world-readable file becomes private: the mode is set, not inherited', () => {
  inTempDir((dir) => {
    const f = join(dir, 'identity.json');
    writeFileSync(f, 'old');
    chmodSync(f, 0o644);
    writeFileAtomicSync(f, 'new');
    assert.equal(modeOf(f), 0o600);
  });
});

test('an explicit mode is exact whatever the umask', () => {
  inTempDir((dir) => {
    const f = join(dir, 'dmi.json');
    const old = process.umask(0o077);
    try {
      writeFileAtomicSync(f, '{}', { mode: 0o644 });
    } finally {
      process.umask(old);
    }
    assert.equal(modeOf(f), 0o644);
  });
});

test('a failed replace is a STORAGE error, keeps the old content and removes its temp file', () => {
  inTempDir((dir) => {
    // rename() cannot replace a non-empty directory: the write must fail as a whole.
    const target = join(dir, 'target');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'old');
    assert.throws(
      () => writeFileAtomicSync(target, 'new'),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.STORAGE && e.message.includes(target),
    );
    assert.equal(readFileSync(join(target, 'keep'), 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['target']);
  });
});

test('a missing directory is a STORAGE error, not a silent mkdir', () => {
  inTempDir((dir) => {
    assert.throws(
      () => writeFileAtomicSync(join(dir, 'nope', 'x'), 'data'),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.STORAGE && e.message.includes('ENOENT'),
    );
  });
});
