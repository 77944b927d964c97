// `gate device enroll` before anything reaches the cluster or the TPM: a missing login is a coded
// error (exit 4) that says what to do; the help names every way to pass the token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runGate } from '../main.ts';

async function gate(args: string[], home: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  // A TCTI nothing listens on: if the command wrongly reached the TPM it would fail differently.
  const code = await runGate(
    args,
    { GATEHOUSE_HOME: home, GATEHOUSE_TPM_TCTI: 'device:/nonexistent' },
    { stdin, stdout, stderr },
  );
  return { code, out, err };
}

test('gate device enroll needs a login first and documents the ways to pass the token', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'gate-enroll-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const noLogin = await gate(['device', 'enroll'], home);
  assert.equal(noLogin.code, 4, noLogin.err);
  assert.match(
    noLogin.err,
    /^ERROR: not logged in: enrolling a device needs a login .*run "gate login --proxy ADDRESS --user NAME" first/m,
  );

  const withFlag = await gate(['device', 'enroll', '--token', 'abc'], home);
  assert.equal(withFlag.code, 4, withFlag.err);

  const usage = await gate(['device', 'enroll', '--help'], home);
  assert.match(usage.out, /^Usage: gate device enroll \[--token-stdin \| --auto\]$/m);
  assert.match(usage.out, /--auto +no token: ask the cluster for one/);
  assert.match(usage.out, /device-trusted at once,\s+without "gate login" again/);
  assert.match(usage.out, /GATEHOUSE_TOKEN/);
  assert.match(usage.out, /--token <TOKEN> +deprecated: other users of this machine can read it in the\s+process list/);

  const help = await gate(['device', '--help'], home);
  assert.match(help.out, /^ {2}enroll +enroll this device/m);
  assert.match(help.out, /^ {2}status +this device, its TPM/m);
  assert.match(help.out, /^ {2}diagnose +device trust diagnostics/m);

  const both = await gate(['device', 'enroll', '--auto', '--token-stdin'], home);
  assert.equal(both.code, 4, 'the login check comes first');
});
