// `npm ci` runs build-native.mjs from postinstall: it must never fail the install, only explain.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./build-native.mjs', import.meta.url));

describe('build-native.mjs', () => {
  it('exits 0 and names the Debian package when the tpm2-tss headers are missing', () => {
    const r = spawnSync(process.execPath, [script, 'tpm'], {
      encoding: 'utf8',
      env: { ...process.env, TSS2_INCLUDE_DIR: '/nonexistent/tss2' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /tpm2-tss development files are missing.*apt-get install libtss2-dev/s);
    assert.doesNotMatch(r.stdout, /built/);
  });

  it('refuses a target it does not know, naming the ones it does', () => {
    const r = spawnSync(process.execPath, [script, 'tmp'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown target "tmp"; known: ssh2-crypto, tpm/);
  });
});
