import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ErrorCode, GatehouseError } from './errors.ts';
import {
  SSH2_CERT_HELPER_FILE,
  SSH2_CHANGES,
  VENDORED_SSH2_VERSION,
  assertPatchedSsh2,
  loadedSsh2Dir,
  ssh2ChangeMarker,
  vendoredSsh2Problems,
} from './ssh2-vendored.ts';

const vendorDir = new URL('../vendor/ssh2', import.meta.url).pathname;

function filesUnder(dir: string): string[] {
  return (
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)))
      // Build output of the optional binding, and documentation (VENDOR.md) that does not run.
      .filter(
        (f) => !f.startsWith('lib/protocol/crypto/build/') && !f.startsWith('node_modules/') && !f.endsWith('.md'),
      )
      .sort()
  );
}

test('the ssh2 that the code loads is the vendored fork with every change', () => {
  assert.deepEqual(vendoredSsh2Problems(loadedSsh2Dir()), []);
  assert.doesNotThrow(() => assertPatchedSsh2());
});

test('node_modules/ssh2 is an exact copy of vendor/ssh2 (npm install was run after the last edit)', () => {
  const loaded = loadedSsh2Dir();
  assert.notEqual(loaded, vendorDir, 'ssh2 must be copied (install-links), not symlinked');
  const files = filesUnder(vendorDir);
  assert.deepEqual(filesUnder(loaded), files);
  for (const f of files) {
    assert.ok(readFileSync(join(loaded, f)).equals(readFileSync(join(vendorDir, f))), `${f} differs from vendor/ssh2`);
  }
});

test('every marker in the vendored source is listed, and every listed change has exactly one marker', () => {
  const found = new Map<string, number>();
  for (const f of filesUnder(join(vendorDir, 'lib')).filter((f) => f.endsWith('.js'))) {
    for (const m of readFileSync(join(vendorDir, 'lib', f), 'utf8').matchAll(/gatehouse-patch:([a-z0-9-]+)/g)) {
      assert.equal(`lib/${f}`, SSH2_CHANGES[m[1]!], `marker "${m[1]}" in lib/${f} is not listed in SSH2_CHANGES`);
      found.set(m[1]!, (found.get(m[1]!) ?? 0) + 1);
    }
  }
  assert.deepEqual([...found.keys()].sort(), Object.keys(SSH2_CHANGES).sort());
  assert.ok([...found.values()].every((n) => n === 1));
});

test('a stock or half-changed ssh2 is refused with each missing change named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ssh2-stock-'));
  try {
    cpSync(vendorDir, dir, { recursive: true });
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, version: '1.17.0' }));
    const server = join(dir, 'lib/server.js');
    writeFileSync(server, readFileSync(server, 'utf8').replace(ssh2ChangeMarker('server-reject-reason'), ''));
    rmSync(join(dir, SSH2_CERT_HELPER_FILE));
    assert.deepEqual(vendoredSsh2Problems(dir), [
      `version is 1.17.0, expected ${VENDORED_SSH2_VERSION}`,
      'change "server-reject-reason" missing from lib/server.js',
      `${SSH2_CERT_HELPER_FILE} missing`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('assertPatchedSsh2 refuses a stock ssh2 with a coded error that says how to fix it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ssh2-stock-'));
  try {
    // No lib/ at all: every change is reported, not just the first.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'ssh2', version: '1.17.0' }));
    assert.throws(
      () => assertPatchedSsh2(dir),
      (err: unknown) =>
        err instanceof GatehouseError &&
        err.code === ErrorCode.INTERNAL &&
        err.message.includes('version is 1.17.0') &&
        Object.keys(SSH2_CHANGES).every((id) => err.message.includes(`"${id}"`)) &&
        err.message.includes('npm install'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
