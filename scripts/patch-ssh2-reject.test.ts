// The reject patch script on a private copy of ssh2's server.js: revert/patch round trip,
// idempotence, and a loud failure (nothing written) on source it does not recognise.
// What the patched reject() does on the wire is tested in src-cluster/node/integration/.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const script = new URL('./patch-ssh2-reject.mjs', import.meta.url).pathname;
const installed = join(dirname(createRequire(import.meta.url).resolve('ssh2/package.json')), 'lib', 'server.js');
const work = mkdtempSync(join(tmpdir(), 'gatehouse-patch-reject-'));
after(() => rmSync(work, { recursive: true, force: true }));

function copy(name: string): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'lib'), { recursive: true });
  copyFileSync(installed, join(dir, 'lib', 'server.js'));
  return dir;
}
const run = (dir: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [script, '--dir', dir, ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
};
const source = (dir: string) => readFileSync(join(dir, 'lib', 'server.js'), 'utf8');

test('the installed ssh2 is patched', () => {
  assert.match(readFileSync(installed, 'utf8'), /gatehouse-patch: reject\(reasonCode, description\)/);
});

test('revert restores the published reject(); patch brings back exactly the installed text', () => {
  const dir = copy('roundtrip');
  assert.match(run(dir, '--revert').out, /reverted/);
  const pristine = source(dir);
  assert.doesNotMatch(pristine, /gatehouse-patch: reject/);
  assert.match(pristine, /proto\.channelOpenFail\(info\.sender, reason, ''\);\n {10}\};\n {10}const reserveChannel/);
  const check = run(dir, '--check');
  assert.equal(check.status, 1);
  assert.match(check.out, /not patched/);
  assert.match(run(dir).out, /patch-ssh2-reject: patched/);
  assert.equal(source(dir), readFileSync(installed, 'utf8'));
  assert.equal(run(dir, '--check').status, 0);
});

test('a second run changes nothing', () => {
  const dir = copy('twice');
  const before = source(dir);
  const r = run(dir);
  assert.equal(r.status, 0);
  assert.match(r.out, /already patched/);
  assert.equal(source(dir), before);
});

test('unknown source fails loudly and writes nothing', () => {
  const dir = copy('unknown');
  run(dir, '--revert');
  const changed = source(dir).replace(
    "proto.channelOpenFail(info.sender, reason, '');",
    'proto.channelOpenFail(info.sender, reason);',
  );
  writeFileSync(join(dir, 'lib', 'server.js'), changed);
  const r = run(dir);
  assert.equal(r.status, 1);
  assert.match(r.out, /does not look like ssh2 1\.17's; the patch cannot be applied/);
  assert.equal(source(dir), changed);
});
