// `gate device enroll` before anything reaches the cluster or the TPM: a missing token and a
// missing login are coded errors (exit 2 and 4) that say what to do.
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
  const code = await runGate(args, { GATEHOUSE_HOME: home, GATEHOUSE_TPM_TCTI: 'device:/nonexistent' }, { stdin, stdout, stderr });
  return { code, out, err };
}

test('gate device enroll needs --token and a login first', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'gate-enroll-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const noToken = await gate(['device', 'enroll'], home);
  assert.equal(noToken.code, 2);
  assert.match(noToken.err, /^ERROR: gate device enroll: --token is required/);

  const notLoggedIn = await gate(['device', 'enroll', '--token', 'abc'], home);
  assert.equal(notLoggedIn.code, 4, notLoggedIn.err);
  assert.match(notLoggedIn.err, /^ERROR: not logged in: enrolling a device needs a login .*run "gate login --proxy ADDRESS --user NAME" first/m);

  const help = await gate(['device', '--help'], home);
  assert.match(help.out, /^ {2}enroll +enroll this device/m);
});
