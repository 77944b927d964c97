import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  ALLOWED_CIPHERS,
  ALLOWED_KEX,
  ALLOWED_MACS,
  clientAlgorithms,
  serverAlgorithms,
  sshAlgorithmListProblem,
  SSH_BANNER,
} from './ssh-algorithms.ts';
import { GatehouseError } from './errors.ts';
import { loadedSsh2Dir } from './ssh2-vendored.ts';

test('the default sets: X25519 kex, AEAD ciphers with aes128-gcm first, ETM SHA-2 MACs, no compression', () => {
  assert.deepEqual(serverAlgorithms(), {
    kex: ['curve25519-sha256', 'curve25519-sha256@libssh.org'],
    cipher: ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com'],
    hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com'],
    compress: ['none'],
  });
  assert.equal(SSH_BANNER, 'SSH-2.0-Gatehouse');
});

test('fips: NIST-curve kex and AES-GCM only; explicit lists win over it', () => {
  const fips = serverAlgorithms({ fips: true });
  assert.deepEqual(fips.kex, ['ecdh-sha2-nistp256', 'ecdh-sha2-nistp384']);
  assert.deepEqual(fips.cipher, ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com']);
  assert.deepEqual(serverAlgorithms({ fips: true, kexAlgorithms: ['curve25519-sha256'] }).kex, ['curve25519-sha256']);
});

test('an override replaces the set in its order; unknown, weak, empty or repeated names are refused', () => {
  assert.deepEqual(serverAlgorithms({ ciphers: ['aes256-gcm@openssh.com', 'aes256-ctr'] }).cipher, [
    'aes256-gcm@openssh.com',
    'aes256-ctr',
  ]);
  assert.throws(
    () => serverAlgorithms({ macs: ['hmac-sha1'] }),
    (e: unknown) =>
      e instanceof GatehouseError &&
      /ssh\.macs: unknown or refused algorithm "hmac-sha1"; allowed: hmac-sha2-256-etm/.test(e.message),
  );
  assert.match(
    sshAlgorithmListProblem('ciphers', ['3des-cbc', 'arcfour'])!,
    /algorithm "3des-cbc", "arcfour"; allowed:/,
  );
  assert.match(sshAlgorithmListProblem('kex_algorithms', [])!, /is empty/);
  assert.match(
    sshAlgorithmListProblem('macs', ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-256-etm@openssh.com'])!,
    /listed twice/,
  );
  assert.equal(sshAlgorithmListProblem('kex_algorithms', ['ecdh-sha2-nistp384']), undefined);
});

test('the client offers X25519 first, reaches a FIPS node, and accepts only ed25519 host certificates', () => {
  const c = clientAlgorithms();
  assert.deepEqual(c.kex.slice(0, 2), ['curve25519-sha256', 'curve25519-sha256@libssh.org']);
  for (const k of serverAlgorithms({ fips: true }).kex) assert.ok(c.kex.includes(k), k);
  assert.deepEqual(c.serverHostKey, ['ssh-ed25519-cert-v01@openssh.com']);
  assert.deepEqual(c.compress, ['none']);
});

test('every allowed name is one the loaded ssh2 supports (a typo would fail at the node start)', () => {
  // The file next to the ssh2 that `import 'ssh2'` loads (a path, so the dependency rules do not walk ssh2's internals).
  const constants = createRequire(import.meta.url)(join(loadedSsh2Dir(), 'lib/protocol/constants.js')) as Record<
    string,
    string[]
  >;
  for (const [allowed, supported] of [
    [ALLOWED_KEX, 'SUPPORTED_KEX'],
    [ALLOWED_CIPHERS, 'SUPPORTED_CIPHER'],
    [ALLOWED_MACS, 'SUPPORTED_MAC'],
  ] as const) {
    for (const name of allowed) assert.ok(constants[supported]!.includes(name), `${name} not in ssh2 ${supported}`);
  }
});
