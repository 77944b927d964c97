import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  hostIdentityPath,
  loadHostIdentity,
  renewAtMs,
  saveHostIdentity,
  type HostIdentity,
} from './host-identity-file.ts';

const sample: HostIdentity = {
  version: 1,
  cluster_name: 'c1',
  host_id: 'h-1',
  role: 'node',
  name: 'node1',
  auth_server: '127.0.0.1:3025',
  tls_key_pem: 'KEY',
  tls_cert_pem: 'CERT',
  ssh_key: 'SSHKEY',
  ssh_host_cert: 'ssh-ed25519-cert-v01@openssh.com AAAA',
  issued_unix: 1_000,
  expires_unix: 4_000,
  tls_host_ca_pems: ['CA'],
  tls_user_ca_pems: ['UCA'],
  ssh_user_ca_keys: ['ssh-ed25519 AAAA ca'],
};

test('a saved identity loads back, private to its owner', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-identity-'));
  try {
    const path = hostIdentityPath(dir, 'node');
    assert.equal(loadHostIdentity(path), undefined, 'no identity before the first join');
    await saveHostIdentity(path, sample);
    assert.deepEqual(loadHostIdentity(path), sample);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged identity file is a clear error that says how to recover', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-identity-'));
  try {
    const path = join(dir, 'x.json');
    writeFileSync(path, '{not json');
    assert.throws(() => loadHostIdentity(path), /not valid JSON; remove it and join again/);
    writeFileSync(path, JSON.stringify({ ...sample, role: 'wizard' }));
    assert.throws(() => loadHostIdentity(path), /role: .*remove it and join again/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('renewal is due two thirds into the lifetime', () => {
  assert.equal(renewAtMs({ issued_unix: 1_000, expires_unix: 4_000 }), 3_000_000);
});
