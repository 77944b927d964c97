import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from './errors.ts';
import { MAX_ATOMIC_BATCH, writeFileAtomicSync, writeFilesAtomic } from './atomic-write.ts';

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

async function inTempDirAsync(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-atomic-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('writeFilesAtomic replaces every file with its exact mode and leaves no temp file', async () => {
  await inTempDirAsync(async (dir) => {
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    writeFileSync(a, 'old a');
    chmodSync(a, 0o644);
    const old = process.umask(0o077);
    try {
      await writeFilesAtomic([
        { path: a, data: 'new a' },
        { path: b, data: Buffer.from('new b'), mode: 0o644 },
      ]);
    } finally {
      process.umask(old);
    }
    assert.equal(readFileSync(a, 'utf8'), 'new a');
    assert.equal(readFileSync(b, 'utf8'), 'new b');
    assert.equal(modeOf(a), 0o600);
    assert.equal(modeOf(b), 0o644);
    assert.deepEqual(readdirSync(dir).sort(), ['a', 'b']);
  });
});

test('writeFilesAtomic: when one file cannot be written, no file is replaced and no temp file stays', async () => {
  await inTempDirAsync(async (dir) => {
    const a = join(dir, 'a');
    writeFileSync(a, 'old a');
    const missing = join(dir, 'nope', 'b');
    await assert.rejects(
      writeFilesAtomic([
        { path: a, data: 'new a' },
        { path: missing, data: 'new b' },
      ]),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.STORAGE && e.message.includes(missing),
    );
    assert.equal(readFileSync(a, 'utf8'), 'old a');
    assert.deepEqual(readdirSync(dir), ['a']);
  });
});

test('writeFilesAtomic renames in the order given: a failed rename keeps the later files old', async () => {
  await inTempDirAsync(async (dir) => {
    const [a, c] = [join(dir, 'a'), join(dir, 'c')];
    writeFileSync(a, 'old a');
    writeFileSync(c, 'old c');
    // rename() cannot replace a non-empty directory: the second file fails at its rename.
    const target = join(dir, 'target');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'old');
    await assert.rejects(
      writeFilesAtomic([
        { path: a, data: 'new a' },
        { path: target, data: 'new' },
        { path: c, data: 'new c' },
      ]),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.STORAGE && e.message.includes(target),
    );
    assert.equal(readFileSync(a, 'utf8'), 'new a', 'renamed before the failure');
    assert.equal(readFileSync(c, 'utf8'), 'old c', 'the commit point after it stays old');
    assert.deepEqual(readdirSync(dir).sort(), ['a', 'c', 'target']);
  });
});

test('writeFilesAtomic refuses more files than its bound before touching any', async () => {
  await inTempDirAsync(async (dir) => {
    const files = Array.from({ length: MAX_ATOMIC_BATCH + 1 }, (_, i) => ({ path: join(dir, `f${i}`), data: 'x' }));
    await assert.rejects(
      writeFilesAtomic(files),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.STORAGE,
    );
    assert.deepEqual(readdirSync(dir), []);
  });
});
