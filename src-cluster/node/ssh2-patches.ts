// The node needs two local patches to ssh2 (scripts/patch-ssh2*.mjs); starting without them
// would fail in ways a user cannot read, so the node checks for them first.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

const REJECT_PATCH_MARKER = 'gatehouse-patch: reject(reasonCode, description)';
/** Written by scripts/patch-ssh2.mjs; without it ssh2 ignores a host key's `certificate`. */
const CERT_PATCH_FILE = 'lib/protocol/gatehouse-cert.js';

/**
 * Without the reject patch a denial would reach the user as "connect failed" with no reason;
 * without the cert patch the host certificate would silently not be offered.
 */
export function assertSsh2Patched(needHostCert: boolean): void {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('ssh2/package.json'));
  const fix = '(npm install runs the ssh2 patches from scripts/postinstall.mjs)';
  if (!readFileSync(join(root, 'lib', 'server.js'), 'utf8').includes(REJECT_PATCH_MARKER)) {
    throw new GatehouseError(
      ErrorCode.INTERNAL,
      `ssh2 at ${root} lacks the channel-reject patch; run "node scripts/patch-ssh2-reject.mjs" ${fix}`,
    );
  }
  if (needHostCert && !existsSync(join(root, CERT_PATCH_FILE))) {
    throw new GatehouseError(
      ErrorCode.INTERNAL,
      `ssh2 at ${root} cannot present host certificates; run "node scripts/patch-ssh2.mjs" ${fix}`,
    );
  }
}
