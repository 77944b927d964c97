import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { formatCertificateLine, signCertificate } from '../../src-shared/sshcert/index.ts';
import { resolveGatehouseHome, writeFileAtomic } from './files.ts';
import { generateClientKey, type ClientKey } from './keys.ts';
import {
  formatTimeLeft,
  isExpired,
  ProfileStore,
  timeLeftMs,
  type Profile,
  type ProfileCredentials,
} from './profiles.ts';

const userCa = generateKeyPairSync('ed25519').privateKey;

function credentialsFor(key: ClientKey, login = 'root'): ProfileCredentials {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const blob = signCertificate({
    publicKey: key.publicKeyBlob,
    type: 'user',
    keyId: 'alice',
    principals: [login],
    validAfter: now - 60n,
    validBefore: now + 3600n,
    caPrivateKey: userCa,
  });
  return {
    key,
    sshCertificate: formatCertificateLine(blob),
    tlsCertificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  };
}

function profile(over: Partial<Profile> = {}): Profile {
  return {
    proxy: '127.0.0.1:3080',
    user: 'alice',
    cluster: 'c1',
    roles: ['access'],
    logins: ['root'],
    validUntil: '2030-01-01T12:00:00.000Z',
    loggedInAt: '2030-01-01T00:00:00.000Z',
    sshHostCaKeys: ['ssh-ed25519 AAAA host-ca'],
    tlsHostCaCerts: [],
    sshUserCaKeys: [],
    tlsUserCaCerts: [],
    ...over,
  };
}

const mode = (p: string) => statSync(p).mode & 0o777;

describe('ProfileStore', () => {
  let dir: string;
  let home: string;
  let oldUmask: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gate-profiles-'));
    home = join(dir, 'home');
    // A permissive umask must not leak into what we write: we set modes explicitly.
    oldUmask = process.umask(0);
  });
  afterEach(() => {
    process.umask(oldUmask);
    rmSync(dir, { recursive: true, force: true });
  });

  test('stores key and certificates 0600 in 0700 directories, even in a pre-existing open home', () => {
    mkdirSync(home, { mode: 0o755 });
    chmodSync(home, 0o755);
    const store = new ProfileStore(home);
    const paths = store.save(profile(), credentialsFor(generateClientKey()));
    assert.equal(mode(home), 0o700);
    assert.equal(mode(paths.dir), 0o700);
    assert.equal(mode(join(home, 'profiles')), 0o700);
    for (const f of [paths.key, paths.sshCert, paths.tlsCert, paths.profileJson, join(home, 'current-profile.json')]) {
      assert.equal(mode(f), 0o600, f);
    }
    assert.match(readFileSync(paths.key, 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/);
  });

  test('save makes the login current; load and loadCredentials read it back', () => {
    const store = new ProfileStore(home);
    const key = generateClientKey();
    store.save(profile({ proxy: 'https://127.0.0.1:3080/' }), credentialsFor(key));
    const cur = store.requireCurrent();
    assert.equal(cur.proxy, '127.0.0.1:3080', 'the address is stored canonically');
    assert.deepEqual(cur.roles, ['access']);
    const creds = store.loadCredentials(cur);
    assert.ok(creds.key.publicKeyBlob.equals(key.publicKeyBlob));
    assert.match(creds.sshCertificate, /^ecdsa-sha2-nistp256-cert-v01@openssh.com /);
  });

  test('saveKey writes the key ahead (0600); save with keyStored writes the rest and leaves that key', async () => {
    const store = new ProfileStore(home);
    const key = generateClientKey();
    await store.saveKey(profile({ proxy: 'https://127.0.0.1:3080/' }), key);
    const paths = store.paths('127.0.0.1:3080', 'alice');
    assert.equal(mode(paths.key), 0o600);
    assert.equal(readFileSync(paths.key, 'utf8'), key.privateKeyPem);
    assert.equal(store.current(), undefined, 'the key alone makes no login current');
    // keyStored: the key passed is not written again (a different one here, to tell).
    store.save(profile(), credentialsFor(key), { keyStored: true });
    assert.ok(store.loadCredentials(profile()).key.publicKeyBlob.equals(key.publicKeyBlob));
    store.save(profile(), credentialsFor(generateClientKey()), { keyStored: true });
    assert.equal(readFileSync(paths.key, 'utf8'), key.privateKeyPem);
  });

  test('saveBatched stores what save stores, 0600, makes the login current and leaves no temp file', async () => {
    const store = new ProfileStore(home);
    const first = generateClientKey();
    await store.saveBatched(profile({ proxy: 'https://127.0.0.1:3080/' }), credentialsFor(first));
    const paths = store.paths('127.0.0.1:3080', 'alice');
    for (const f of [paths.key, paths.sshCert, paths.tlsCert, paths.profileJson, join(home, 'current-profile.json')]) {
      assert.equal(mode(f), 0o600, f);
    }
    assert.equal(store.requireCurrent().user, 'alice');
    assert.ok(store.loadCredentials(profile()).key.publicKeyBlob.equals(first.publicKeyBlob));
    // keyStored: the key on disk stays; the certificates and profile.json are replaced.
    const device = { deviceId: 'd1', assetTag: 'tag', credentialId: 'c1' };
    await store.saveBatched(profile({ device }), credentialsFor(generateClientKey()), { keyStored: true });
    assert.equal(readFileSync(paths.key, 'utf8'), first.privateKeyPem);
    assert.deepEqual(store.requireCurrent().device, device);
    assert.deepEqual(readdirSync(paths.dir).sort(), ['key', 'key-cert.pub', 'profile.json', 'tls.crt']);
    assert.deepEqual(readdirSync(home).sort(), ['current-profile.json', 'profiles']);
  });

  test('making the current login current again does not rewrite the pointer', async () => {
    const store = new ProfileStore(home);
    store.save(profile(), credentialsFor(generateClientKey()));
    const pointer = join(home, 'current-profile.json');
    const before = statSync(pointer).ino;
    store.setCurrent('127.0.0.1:3080', 'alice');
    await store.saveBatched(profile(), credentialsFor(generateClientKey()));
    assert.equal(statSync(pointer).ino, before, 'a replaced file would have a new inode');
    store.save(profile({ user: 'bob' }), credentialsFor(generateClientKey()));
    assert.notEqual(statSync(pointer).ino, before);
    assert.equal(store.requireCurrent().user, 'bob');
  });

  test('a key that does not match the stored certificate is refused with advice', () => {
    const store = new ProfileStore(home);
    const paths = store.save(profile(), credentialsFor(generateClientKey()));
    writeFileSync(paths.key, generateClientKey().privateKeyPem);
    assert.throws(
      () => store.loadCredentials(profile()),
      (e: GatehouseError) => e.code === ErrorCode.CERT_INVALID && /gate login/.test(e.message),
    );
  });

  test('missing files are NOT_LOGGED_IN, a damaged profile.json is STORAGE', () => {
    const store = new ProfileStore(home);
    const paths = store.save(profile(), credentialsFor(generateClientKey()));
    rmSync(paths.tlsCert);
    assert.throws(
      () => store.loadCredentials(profile()),
      (e: GatehouseError) => e.code === ErrorCode.NOT_LOGGED_IN,
    );
    writeFileSync(paths.profileJson, '{"proxy": 1');
    assert.throws(
      () => store.load('127.0.0.1:3080', 'alice'),
      (e: GatehouseError) => e.code === ErrorCode.STORAGE,
    );
  });

  test('remove deletes the files and clears the current pointer only when it pointed there', () => {
    const store = new ProfileStore(home);
    store.save(profile({ user: 'bob' }), credentialsFor(generateClientKey()));
    store.save(profile({ user: 'alice' }), credentialsFor(generateClientKey()));
    assert.equal(store.list().length, 2);
    assert.equal(store.remove('127.0.0.1:3080', 'bob'), true);
    assert.equal(store.current()?.user, 'alice', 'removing another login keeps the current one');
    assert.equal(store.remove('127.0.0.1:3080', 'alice'), true);
    assert.equal(store.current(), undefined);
    assert.deepEqual(readdirSync(join(home, 'profiles', '127.0.0.1_3080')), []);
    assert.equal(store.remove('127.0.0.1:3080', 'alice'), false);
    assert.throws(
      () => store.requireCurrent(),
      (e: GatehouseError) => e.code === ErrorCode.NOT_LOGGED_IN && /gate login/.test(e.message),
    );
  });

  test('user names cannot escape the profile directory', () => {
    const store = new ProfileStore(home);
    assert.ok(store.paths('p:1', '../../etc').dir.startsWith(join(home, 'profiles')));
    assert.ok(!store.paths('p:1', '../../etc').dir.includes('/../'));
    assert.throws(
      () => store.paths('p:1', '..'),
      (e: GatehouseError) => e.code === ErrorCode.BAD_REQUEST,
    );
  });
});

describe('writeFileAtomic', () => {
  test('replaces the whole file and leaves no temp files behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-atomic-'));
    try {
      const f = join(dir, 'sub', 'x.json');
      writeFileAtomic(f, 'first version, rather long\n');
      writeFileAtomic(f, 'second\n');
      assert.equal(readFileSync(f, 'utf8'), 'second\n');
      assert.deepEqual(readdirSync(join(dir, 'sub')), ['x.json']);
      assert.equal(mode(f), 0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a failed replace keeps the old content and cleans up its temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gate-atomic-'));
    try {
      // rename() cannot replace a non-empty directory: the write must fail as a whole.
      const target = join(dir, 'target');
      mkdirSync(target);
      writeFileSync(join(target, 'keep'), 'old');
      assert.throws(
        () => writeFileAtomic(target, 'new'),
        (e: GatehouseError) => e.code === ErrorCode.STORAGE && e.message.includes(target),
      );
      assert.equal(readFileSync(join(target, 'keep'), 'utf8'), 'old');
      assert.deepEqual(readdirSync(dir), ['target']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('expiry', () => {
  const p = { validUntil: '2030-01-01T12:00:00.000Z' };
  test('isExpired and timeLeftMs around the boundary', () => {
    assert.equal(isExpired(p, new Date('2030-01-01T11:59:59.000Z')), false);
    assert.equal(timeLeftMs(p, new Date('2030-01-01T11:59:59.000Z')), 1000);
    assert.equal(isExpired(p, new Date('2030-01-01T12:00:00.000Z')), true);
    assert.equal(
      isExpired({ validUntil: 'garbage' }, new Date('2000-01-01T00:00:00Z')),
      true,
      'unreadable expiry counts as expired',
    );
  });
  test('formatTimeLeft', () => {
    assert.equal(formatTimeLeft(0), 'expired');
    assert.equal(formatTimeLeft(5 * 60_000 + 59_000), '5m');
    assert.equal(formatTimeLeft((11 * 60 + 59) * 60_000), '11h 59m');
    assert.equal(formatTimeLeft(50 * 3600_000), '2d 2h');
  });
});

test('resolveGatehouseHome: GATEHOUSE_HOME wins, else ~/.gatehouse', () => {
  assert.equal(resolveGatehouseHome({}, '/home/u'), '/home/u/.gatehouse');
  assert.equal(resolveGatehouseHome({ GATEHOUSE_HOME: '/srv/gh' }, '/home/u'), '/srv/gh');
  assert.equal(resolveGatehouseHome({ GATEHOUSE_HOME: '  ' }, '/home/u'), '/home/u/.gatehouse');
});
