#!/usr/bin/env node
// Lets the ssh2 SERVER's channel-open `reject()` carry a reason code and a description.
//
// ssh2 1.17 picks the CHANNEL_OPEN_FAILURE reason itself (CONNECT_FAILED once a channel
// was reserved) and always sends an empty description. Gatehouse must answer a denied
// session with reason 1 (administratively prohibited) and the authorizer's human reason,
// so that clients print e.g. `administratively prohibited: unauthorized device`.
// After this patch: `reject(reasonCode?, description?)`; with no arguments it behaves as before.
//
// Idempotent (a marker shows the patch is in), exact string replacement, and it fails loudly
// when the expected source text is missing (an ssh2 upgrade must be looked at by a person).
//
//   node scripts/patch-ssh2-reject.mjs [--dir SSH2_PACKAGE_DIR] [--check | --revert]
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const MARKER = '/* gatehouse-patch: reject(reasonCode, description) */';

const ORIGINAL = `          let accept;
          const reject = () => {
            if (replied)
              return;
            replied = true;

            if (reason === undefined) {
              if (localChan === -1)
                reason = CHANNEL_OPEN_FAILURE.RESOURCE_SHORTAGE;
              else
                reason = CHANNEL_OPEN_FAILURE.CONNECT_FAILED;
            }

            if (localChan !== -1)
              this._chanMgr.remove(localChan);
            proto.channelOpenFail(info.sender, reason, '');
          };`;

const PATCHED = `          let accept;
          const reject = (reasonCode, description) => { ${MARKER}
            if (replied)
              return;
            replied = true;

            if (Number.isInteger(reasonCode) && reasonCode > 0)
              reason = reasonCode;
            if (reason === undefined) {
              if (localChan === -1)
                reason = CHANNEL_OPEN_FAILURE.RESOURCE_SHORTAGE;
              else
                reason = CHANNEL_OPEN_FAILURE.CONNECT_FAILED;
            }

            if (localChan !== -1)
              this._chanMgr.remove(localChan);
            proto.channelOpenFail(info.sender, reason,
                                  typeof description === 'string' ? description : '');
          };`;

function defaultPackageDir() {
  const require = createRequire(import.meta.url);
  // Resolve from the package root so that hoisting or a nested install is followed.
  return dirname(require.resolve('ssh2/package.json'));
}

function fail(message) {
  throw new Error(`patch-ssh2-reject: ${message}`);
}

/** mode: 'patch' (default), 'check' (throws unless patched) or 'revert' (back to the published text). */
export function patchSsh2Reject(packageDir = defaultPackageDir(), mode = 'patch') {
  const file = join(packageDir, 'lib', 'server.js');
  const source = readFileSync(file, 'utf8');
  const patched = source.includes(MARKER);
  const count = (text) => source.split(text).length - 1;
  if (mode === 'check') {
    if (!patched) fail(`not patched: ${file}`);
    return { file, changed: false };
  }
  if (mode === 'revert') {
    if (!patched) return { file, changed: false };
    if (count(PATCHED) !== 1) fail(`the patched reject() in ${file} was edited by hand; reinstall ssh2`);
    writeFileSync(file, source.replace(PATCHED, ORIGINAL));
    return { file, changed: true };
  }
  if (patched) return { file, changed: false };
  const n = count(ORIGINAL);
  if (n === 0) {
    fail(
      `the channel-open reject() in ${file} does not look like ssh2 1.17's; the patch cannot be applied. ` +
        'Check the ssh2 version and update scripts/patch-ssh2-reject.mjs.',
    );
  }
  if (n > 1) fail(`the reject() text occurs ${n} times in ${file}`);
  writeFileSync(file, source.replace(ORIGINAL, PATCHED));
  return { file, changed: true };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const dirAt = args.indexOf('--dir');
  const dir = dirAt === -1 ? undefined : args[dirAt + 1];
  const mode = args.includes('--check') ? 'check' : args.includes('--revert') ? 'revert' : 'patch';
  try {
    const { file, changed } = patchSsh2Reject(dir, mode);
    const what = { patch: ['patched', 'already patched'], revert: ['reverted', 'not patched'], check: ['', 'patched'] };
    console.log(`patch-ssh2-reject: ${what[mode][changed ? 0 : 1]} ${file}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
