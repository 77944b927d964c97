// The enrollment file watcher on a real directory: one call per burst of writes, a directory
// that appears later is picked up, other files are ignored, and close() stops everything.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnrollmentFileWatcher } from './enrollment-file-watcher.ts';
import { silentAppLogger } from './logger.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(10);
  }
}

describe('EnrollmentFileWatcher', () => {
  const dirs: string[] = [];
  const watchers: EnrollmentFileWatcher[] = [];
  afterEach(() => {
    for (const w of watchers.splice(0)) w.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function make(directory: string) {
    let calls = 0;
    const w = new EnrollmentFileWatcher({
      directory,
      onChange: () => calls++,
      log: silentAppLogger,
      debounceMs: 50,
      retryMs: 20,
    });
    watchers.push(w);
    return { w, calls: () => calls };
  }

  test('an atomic replace (temp + rename) is one change; other files are none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-watch-'));
    dirs.push(dir);
    const { w, calls } = make(dir);
    w.start();
    assert.equal(w.watching, true);
    writeFileSync(join(dir, 'ak.blob'), 'x');
    await sleep(120);
    assert.equal(calls(), 0, 'the AK blob is not the enrollment record');
    writeFileSync(join(dir, 'enrollments.json.tmp'), '{}');
    renameSync(join(dir, 'enrollments.json.tmp'), join(dir, 'enrollments.json'));
    writeFileSync(join(dir, 'enrollments.json'), '{"a":1}');
    await until(() => calls() > 0);
    await sleep(120);
    assert.equal(calls(), 1, 'one burst, one call');
  });

  test('a device store created after start is watched once it exists; close() stops it', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'gh-watch-'));
    dirs.push(parent);
    const dir = join(parent, 'device');
    const { w, calls } = make(dir);
    w.start();
    assert.equal(w.watching, false);
    mkdirSync(dir);
    await until(() => w.watching);
    writeFileSync(join(dir, 'enrollments.json'), '{}');
    await until(() => calls() === 1);
    w.close();
    writeFileSync(join(dir, 'enrollments.json'), '{"b":2}');
    await sleep(120);
    assert.equal(calls(), 1);
    assert.equal(w.watching, false);
  });
});
