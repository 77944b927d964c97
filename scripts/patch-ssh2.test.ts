// The ssh2 patch script on a private copy of the installed ssh2: revert/patch round trip,
// idempotence, and loud, all-or-nothing failure on unexpected source. The patched behaviour
// itself is exercised against real OpenSSH in scripts/integration/ssh2-cert.test.ts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const script = new URL('./patch-ssh2.mjs', import.meta.url).pathname;
const installed = dirname(createRequire(import.meta.url).resolve('ssh2/package.json'));
const work = mkdtempSync(join(tmpdir(), 'gatehouse-patch-ssh2-'));
after(() => rmSync(work, { recursive: true, force: true }));

const PATCHED_FILES = [
  'lib/client.js',
  'lib/server.js',
  'lib/protocol/Protocol.js',
  'lib/protocol/kex.js',
  'lib/Channel.js',
  'lib/protocol/crypto.js',
];

function copyOfSsh2(name: string): string {
  const dir = join(work, name);
  cpSync(installed, dir, { recursive: true, filter: (src) => !src.includes(join('crypto', 'build')) });
  return dir;
}
function runScript(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [script, '--dir', dir, ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}
const snapshot = (dir: string) => PATCHED_FILES.map((f) => readFileSync(join(dir, f), 'utf8'));

test('revert and patch are exact inverses, and a second patch run changes nothing', () => {
  const dir = copyOfSsh2('roundtrip');
  assert.equal(runScript(dir, '--revert').status, 0);
  const pristine = snapshot(dir);
  // Only this script's markers: other scripts (patch-ssh2-reject, patch-ssh2-hostcert-client) patch ssh2 too.
  const ours =
    /gatehouse-patch:(authpk-|client-(require-helper|config-certificate|default-publickey-cert|authhandler-publickey-cert|first-authpk-cert|retry-authpk-cert|pkok-authpk-cert)|server-|kex-server-|channel-|max-packet-|pooled-padding)/;
  assert.ok(
    pristine.every((src) => !ours.test(src)),
    'no marker of ours left after revert',
  );
  assert.equal(existsSync(join(dir, 'lib/protocol/gatehouse-cert.js')), false);
  const check = runScript(dir, '--check');
  assert.equal(check.status, 1);
  assert.match(check.out, /not patched: authpk-certificate-param/);

  const first = runScript(dir);
  assert.equal(first.status, 0, first.out);
  assert.match(first.out, /patched ssh2 1\.17\.0/);
  const patched = snapshot(dir);
  assert.match(patched[2]!, /authPK\(username, pubKey, keyAlgo, cbSign, certificate\)/);
  assert.match(patched[1]!, /GATEHOUSE_CERT\.certHostKey\(privateKey, hostCert\)/);
  assert.match(patched[4]!, /const PACKET_SIZE = 64 \* 1024;/);
  assert.match(patched[5]!, /cryptoRandomFillSync\(PAD_POOL\)/);

  const second = runScript(dir);
  assert.equal(second.status, 0);
  assert.match(second.out, /already patched/);
  assert.deepEqual(snapshot(dir), patched);
  assert.equal(runScript(dir, '--check').status, 0);

  assert.equal(runScript(dir, '--revert').status, 0);
  assert.deepEqual(snapshot(dir), pristine);
});

test('unexpected source text fails loudly, names the patch, and writes nothing', () => {
  const dir = copyOfSsh2('drifted');
  assert.equal(runScript(dir, '--revert').status, 0);
  const kexPath = join(dir, 'lib/protocol/kex.js');
  // Simulate an upstream change in one of the later edits: nothing at all may be written.
  writeFileSync(
    kexPath,
    readFileSync(kexPath, 'utf8').replace(
      'const sigType = this.negotiated.serverHostKey;',
      'const sigType = negotiatedHostKey;',
    ),
  );
  const before = snapshot(dir);
  const r = runScript(dir);
  assert.equal(r.status, 1);
  assert.match(
    r.out,
    /lib\/protocol\/kex\.js: patch "kex-server-sig-type" expected the original text exactly once but found it 0 times/,
  );
  assert.deepEqual(snapshot(dir), before, 'no file may be half patched');
  assert.equal(existsSync(join(dir, 'lib/protocol/gatehouse-cert.js')), false);
});

test('another ssh2 version is refused', () => {
  const dir = copyOfSsh2('version');
  const pkgPath = join(dir, 'package.json');
  writeFileSync(pkgPath, readFileSync(pkgPath, 'utf8').replace('"version": "1.17.0"', '"version": "1.18.0"'));
  const r = runScript(dir);
  assert.equal(r.status, 1);
  assert.match(r.out, /found ssh2 1\.18\.0 .* this script patches ssh2 1\.17\.0/);
});
