#!/usr/bin/env node
// Builds the native code this checkout compiles itself, with node-gyp against the headers of the Node
// that runs it: ssh2's optional crypto binding, then the TPM addon (native/). A machine without
// the tpm2-tss development files still installs: this prints what to install and exits 0, and the
// TPM code reports a coded "addon not built" error when it is used. A compile failure with the
// headers present also exits 0 (with the compiler output), so `npm ci` never fails because of it.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const nativeDir = join(root, 'native');
const SUPPORTED = ['linux'];
// `node scripts/build-native.mjs tpm` builds only the TPM addon (system-packages.mjs after
// installing the tss2 headers; the tests, which must not rebuild ssh2 under other tests' feet).
const TARGETS = ['ssh2-crypto', 'tpm'];
const wanted = process.argv.slice(2);
for (const t of wanted) {
  if (!TARGETS.includes(t)) {
    console.error(`build-native: unknown target "${t}"; known: ${TARGETS.join(', ')}`);
    process.exit(2);
  }
}
const build = (target) => wanted.length === 0 || wanted.includes(target);

function warn(msg) {
  console.warn(`build-native: ${msg}`);
}

function nodeGyp() {
  // node-gyp ships inside npm; find it next to the npm that runs us, else next to node.
  const candidates = [];
  if (process.env.npm_execpath)
    candidates.push(join(dirname(process.env.npm_execpath), '../node_modules/node-gyp/bin/node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  // The npm on PATH (the registry's Node, from scripts/node-lts.sh, ships no npm of its own).
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const npm = join(dir, 'npm');
    if (existsSync(npm)) candidates.push(join(dirname(realpathSync(npm)), '../node_modules/node-gyp/bin/node-gyp.js'));
  }
  return candidates.find((c) => existsSync(c));
}

const gyp = nodeGyp();
if (!gyp) {
  warn("node-gyp (shipped with npm) was not found; the TPM addon and ssh2's crypto binding are not built");
  process.exit(0);
}
// The headers of the Node that runs this (and will load the addon): npm_config_nodedir (set by
// scripts/node-lts.sh), else the include/ next to this node binary (official builds ship it).
const besideNode = join(dirname(process.execPath), '..');
const nodedir =
  process.env.npm_config_nodedir ||
  (existsSync(join(besideNode, 'include/node/node_version.h')) ? besideNode : undefined);
const nodedirArgs = nodedir ? [`--nodedir=${nodedir}`] : [];

/** node-gyp rebuild in `dir`; the compiler output is printed only when it fails. */
function gypRebuild(dir, extraArgs = []) {
  const args = [gyp, 'rebuild', '--directory', dir, ...nodedirArgs, ...extraArgs];
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) process.stderr.write(r.stdout + r.stderr);
  return r.status === 0;
}

// ssh2's optional crypto binding (faster AES-GCM/ChaCha20 than ssh2's JavaScript fallback). The
// vendored ssh2 has no install script of its own: npm 11 can only approve a file: dependency by
// its absolute path, so it is built here, for the same Node as the rest (what upstream's
// install.js does).
const ssh2Crypto = join(root, 'node_modules/ssh2/lib/protocol/crypto');
if (build('ssh2-crypto') && existsSync(join(ssh2Crypto, 'binding.gyp'))) {
  const opensslMajor = /^\d+/.exec(process.versions.openssl)?.[0] ?? '3';
  if (gypRebuild(ssh2Crypto, [`--real_openssl_major=${opensslMajor}`]))
    console.log("build-native: built ssh2's crypto binding (sshcrypto.node)");
  else warn("building ssh2's optional crypto binding failed; ssh2 uses its slower JavaScript ciphers");
}

if (!build('tpm')) process.exit(0);

if (!SUPPORTED.includes(process.platform)) {
  warn(`no TPM addon for ${process.platform} yet; device trust with a TPM is unavailable`);
  process.exit(0);
}

const required = ['tss2-esys', 'tss2-tctildr', 'tss2-mu', 'tss2-rc'];
// TSS2_INCLUDE_DIR: where the tss2 headers are when not in the Debian location.
const includeDir = process.env.TSS2_INCLUDE_DIR || '/usr/include/tss2';
const headers = ['tss2_esys.h', 'tss2_tctildr.h', 'tss2_mu.h', 'tss2_rc.h'].map((h) => join(includeDir, h));
const pc = spawnSync('pkg-config', ['--exists', ...required]);
const haveHeaders = headers.every((h) => existsSync(h));
if (!haveHeaders || (pc.status !== 0 && !pc.error)) {
  warn(
    'the tpm2-tss development files are missing, so the TPM addon is not built and TPM device trust is ' +
      'unavailable. Install them (Debian/Ubuntu: apt-get install libtss2-dev) and run node scripts/build-native.mjs',
  );
  process.exit(0);
}

if (!gypRebuild(nativeDir)) {
  warn('building the TPM addon failed; TPM device trust is unavailable until it builds');
  process.exit(0);
}
console.log(`build-native: built ${join(nativeDir, 'build/Release/gatehouse_tpm.node')}`);
