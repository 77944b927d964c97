#!/usr/bin/env node
// After `npm install`/`npm ci`: generate the protobuf code, bundle the executables (bin/*.mjs
// run dist/cli, see build-cli.mjs) and build the TPM addon. Each step fails loudly. ssh2 needs
// no step here: the changed ssh2 is vendored (vendor/ssh2, VENDOR.md),
// so `npm ci --ignore-scripts` installs it just the same.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const steps = [
  // First: native modules must be built for the Node that will load them.
  ['node', ['scripts/require-node.mjs']],
  ['npx', ['--no-install', 'buf', 'generate', 'proto', '--template', 'proto/buf.gen.yaml', '-o', 'proto']],
  // After the protobuf code: the bundles include it.
  ['node', ['scripts/build-cli.mjs']],
  // Exits 0 with a warning when libtss2-dev is missing: the TPM code then reports a coded error.
  ['node', ['scripts/build-native.mjs']],
];
for (const [cmd, args] of steps) {
  if (cmd === 'node' && !existsSync(new URL(`../${args[0]}`, import.meta.url))) continue;
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`postinstall: "${cmd} ${args.join(' ')}" failed (exit ${r.status})`);
    process.exit(1);
  }
}
