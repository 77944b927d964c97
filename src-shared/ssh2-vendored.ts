// Gatehouse runs on a vendored ssh2 (vendor/ssh2, see its VENDOR.md): upstream 1.17.0 plus changes
// for OpenSSH certificates, channel-reject reasons and throughput. A stock ssh2 (a stale
// node_modules, a dependency override, a hoisting accident) would fail later in ways nobody can
// read ("All configured authentication methods failed", a host cert silently not offered), so
// the node and the client check for every change once, before they first use ssh2.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ErrorCode, GatehouseError } from './errors.ts';

export const VENDORED_SSH2_VERSION = '1.17.0-gatehouse.4';

/** The file the certificate changes add; it has no marker, its presence is the marker. */
export const SSH2_CERT_HELPER_FILE = 'lib/protocol/gatehouse-cert.js';

/**
 * Every change in vendor/ssh2, by the marker comment it leaves (`/* gatehouse-patch:<id> *\/`)
 * and the file it is in. VENDOR.md groups them by purpose and names the upstream issue.
 */
export const SSH2_CHANGES: Readonly<Record<string, string>> = {
  // Client: user certificates.
  'authpk-certificate-param': 'lib/protocol/Protocol.js',
  'authpk-cert-algo': 'lib/protocol/Protocol.js',
  'authpk-sig-alloc': 'lib/protocol/Protocol.js',
  'authpk-sig-algo': 'lib/protocol/Protocol.js',
  'client-require-helper': 'lib/client.js',
  'client-config-certificate': 'lib/client.js',
  'client-default-publickey-cert': 'lib/client.js',
  'client-authhandler-publickey-cert': 'lib/client.js',
  'client-first-authpk-cert': 'lib/client.js',
  'client-retry-authpk-cert': 'lib/client.js',
  'client-pkok-authpk-cert': 'lib/client.js',
  // Server: host certificates.
  'server-require-helper': 'lib/server.js',
  'server-hostkey-certificate': 'lib/server.js',
  'server-hostkey-order-rsa': 'lib/server.js',
  'server-hostkey-order': 'lib/server.js',
  'kex-server-sign-base-algo': 'lib/protocol/kex.js',
  'kex-server-sig-type': 'lib/protocol/kex.js',
  // Client: accepting host certificates.
  'client-hostkey-cert-algos': 'lib/client.js',
  'kex-client-cert-ks-type': 'lib/protocol/kex.js',
  'kex-client-cert-sig-type': 'lib/protocol/kex.js',
  'kex-client-cert-parse-key': 'lib/protocol/kex.js',
  'kex-client-cert-hash-algo': 'lib/protocol/kex.js',
  // Server: reject(reasonCode, description) on channel open.
  'server-reject-reason': 'lib/server.js',
  // Both: throughput.
  'channel-window-8mib': 'lib/Channel.js',
  'channel-packet-64kib': 'lib/Channel.js',
  'max-packet-64kib': 'lib/protocol/crypto.js',
  'pooled-padding': 'lib/protocol/crypto.js',
  'packet-pool': 'lib/protocol/crypto.js',
  'packet-pool-protocol': 'lib/protocol/Protocol.js',
  'packet-pool-server': 'lib/server.js',
  'packet-pool-client': 'lib/client.js',
  'transient-input': 'lib/protocol/crypto.js',
  'transient-input-protocol': 'lib/protocol/Protocol.js',
  'transient-input-client': 'lib/client.js',
  // Client: a smaller window for interactive sessions (Ctrl+C latency).
  'channel-window-stderr-read': 'lib/Channel.js',
  'channel-window-stream': 'lib/Channel.js',
  'channel-window-field': 'lib/Channel.js',
  'channel-window-read': 'lib/Channel.js',
  'channel-window-adjust': 'lib/Channel.js',
  'channel-window-threshold': 'lib/Channel.js',
  'client-window-import': 'lib/client.js',
  'client-window-confirm': 'lib/client.js',
  'client-window-data': 'lib/client.js',
  'client-window-extdata': 'lib/client.js',
  'client-window-exec': 'lib/client.js',
  'client-window-shell': 'lib/client.js',
  'client-window-option': 'lib/client.js',
  'client-window-open': 'lib/client.js',
};

export const ssh2ChangeMarker = (id: string): string => `/* gatehouse-patch:${id} */`;

/** The directory of the ssh2 package that `import 'ssh2'` loads from this repo. */
export function loadedSsh2Dir(): string {
  return dirname(createRequire(import.meta.url).resolve('ssh2/package.json'));
}

/** What is wrong with the ssh2 package at `dir`, one line each; empty when it is the vendored fork. */
export function vendoredSsh2Problems(dir: string): string[] {
  const problems: string[] = [];
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version;
  if (version !== VENDORED_SSH2_VERSION) {
    problems.push(`version is ${String(version)}, expected ${VENDORED_SSH2_VERSION}`);
  }
  const sources = new Map<string, string>();
  for (const [id, file] of Object.entries(SSH2_CHANGES)) {
    if (!sources.has(file)) sources.set(file, existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8') : '');
    if (!sources.get(file)!.includes(ssh2ChangeMarker(id))) problems.push(`change "${id}" missing from ${file}`);
  }
  if (!existsSync(join(dir, SSH2_CERT_HELPER_FILE))) problems.push(`${SSH2_CERT_HELPER_FILE} missing`);
  return problems;
}

let checkedDir: string | undefined;

/**
 * Throws a coded error naming every missing change unless the ssh2 at `dir` (by default the one
 * `import 'ssh2'` loads) is the vendored fork. Cheap after the first call: the result is kept.
 */
export function assertPatchedSsh2(dir: string = loadedSsh2Dir()): void {
  if (checkedDir === dir) return;
  const problems = vendoredSsh2Problems(dir);
  if (problems.length > 0) {
    throw new GatehouseError(
      ErrorCode.INTERNAL,
      `ssh2 at ${dir} is not Gatehouse's vendored ssh2 (${problems.join('; ')}); ` +
        'run "npm install" so node_modules/ssh2 is the copy of vendor/ssh2',
    );
  }
  checkedDir = dir;
}
