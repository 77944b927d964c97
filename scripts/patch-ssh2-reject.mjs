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

function serverFile() {
  const require = createRequire(import.meta.url);
  // Resolve from the package root so that hoisting or a nested install is followed.
  return join(dirname(require.resolve('ssh2/package.json')), 'lib', 'server.js');
}

export function patchSsh2Reject(file = serverFile()) {
  const source = readFileSync(file, 'utf8');
  if (source.includes(MARKER)) return { file, changed: false };
  const first = source.indexOf(ORIGINAL);
  if (first === -1) {
    throw new Error(
      `patch-ssh2-reject: the channel-open reject() in ${file} does not look like ssh2 1.17's; ` +
        'the patch cannot be applied. Check the ssh2 version and update scripts/patch-ssh2-reject.mjs.',
    );
  }
  if (source.indexOf(ORIGINAL, first + ORIGINAL.length) !== -1) {
    throw new Error(`patch-ssh2-reject: the reject() text occurs more than once in ${file}`);
  }
  writeFileSync(file, source.replace(ORIGINAL, PATCHED));
  return { file, changed: true };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { file, changed } = patchSsh2Reject();
    console.log(`patch-ssh2-reject: ${changed ? 'patched' : 'already patched'} ${file}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
