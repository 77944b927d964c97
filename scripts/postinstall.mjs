#!/usr/bin/env node
// After `npm install`/`npm ci`: apply the small, documented ssh2 fixes and generate the
// protobuf code. Each step fails loudly: a half-patched ssh2 would fail later in confusing ways.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const steps = [
  ['node', ['scripts/patch-ssh2.mjs']],
  ['node', ['scripts/patch-ssh2-reject.mjs']],
  ['node', ['scripts/patch-ssh2-hostcert-client.mjs']],
  ['npx', ['--no-install', 'buf', 'generate', 'proto', '--template', 'proto/buf.gen.yaml', '-o', 'proto']],
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
