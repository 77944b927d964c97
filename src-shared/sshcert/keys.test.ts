import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { GatehouseError } from '../errors.ts';
import { SshReader, SshWriter, encodeMpint } from './wire.ts';
import {
  fingerprintSha256,
  formatAuthorizedKey,
  openSSHToPrivateKey,
  parseAuthorizedKey,
  privateKeyToOpenSSH,
  publicKeyToWire,
  sshKeyType,
  sshSign,
  verifySshSignature,
  wireToPublicKey,
} from './keys.ts';
import { sshKeygen, tempDir } from '../../test-support/sshcert-testkit.ts';

const KINDS = [
  { name: 'ed25519', sshType: 'ssh-ed25519', gen: () => generateKeyPairSync('ed25519').privateKey },
  {
    name: 'ecdsa p256',
    sshType: 'ecdsa-sha2-nistp256',
    gen: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  },
  { name: 'rsa 2048', sshType: 'ssh-rsa', gen: () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey },
] as const;

test('mpint encoding follows the RFC 4251 examples', () => {
  assert.equal(encodeMpint(0n).toString('hex'), '');
  assert.equal(encodeMpint(0x9a378f9b2e332a7n).toString('hex'), '09a378f9b2e332a7');
  assert.equal(encodeMpint(0x80n).toString('hex'), '0080');
  assert.equal(encodeMpint(Buffer.from('000080', 'hex')).toString('hex'), '0080');
  const b = new SshWriter()
    .mpint(0x80n)
    .uint64(2n ** 64n - 1n)
    .nameList(['a', 'b'])
    .toBuffer();
  const r = new SshReader(b);
  assert.equal(r.mpint(), 0x80n);
  assert.equal(r.uint64(), 2n ** 64n - 1n);
  assert.deepEqual(r.nameList(), ['a', 'b']);
  r.end();
});

test('the reader refuses truncated, over-long and non-minimal data with the chosen error code', () => {
  const r = new SshReader(Buffer.from('00000010abcd', 'hex'), { code: 'CERT_INVALID', what: 'thing' });
  assert.throws(
    () => r.string('blob'),
    (e: unknown) =>
      e instanceof GatehouseError &&
      e.code === 'CERT_INVALID' &&
      /malformed thing: truncated while reading blob/.test(e.message),
  );
  assert.throws(() => new SshReader(Buffer.from('000000020001', 'hex')).mpint(), /superfluous leading zero/);
  assert.throws(() => new SshReader(Buffer.from('0000000180', 'hex')).mpint(), /negative/);
  assert.throws(() => new SshReader(Buffer.from('00', 'hex')).end(), /trailing/);
  assert.throws(() => new SshWriter().uint32(2 ** 32), RangeError);
});

for (const kind of KINDS) {
  test(`${kind.name}: wire blob round trip, authorized_keys line, signatures`, () => {
    const priv = kind.gen();
    const blob = publicKeyToWire(priv);
    assert.equal(sshKeyType(priv), kind.sshType);
    const back = wireToPublicKey(blob);
    assert.ok(publicKeyToWire(back).equals(blob));
    const line = formatAuthorizedKey(blob, 'me@laptop');
    assert.match(line, new RegExp(`^${kind.sshType} [A-Za-z0-9+/=]+ me@laptop$`));
    assert.ok(parseAuthorizedKey(line).equals(blob));
    assert.ok(parseAuthorizedKey(`cert-authority,from="10.0.0.0/8" ${line}`).equals(blob));

    const data = Buffer.from('session id and request');
    const sig = sshSign(priv, data);
    assert.ok(verifySshSignature(blob, data, sig));
    assert.equal(verifySshSignature(blob, Buffer.from('other data'), sig), false);
    assert.equal(verifySshSignature(publicKeyToWire(kind.gen()), data, sig), false, 'another key must not verify');
    const flipped = Buffer.from(sig);
    flipped[flipped.length - 3]! ^= 1;
    assert.equal(verifySshSignature(blob, data, flipped), false);
    assert.equal(verifySshSignature(blob, data, Buffer.concat([sig, Buffer.from([0])])), false, 'trailing bytes');
    assert.equal(verifySshSignature(blob, data, Buffer.from('garbage')), false);
  });
}

test('a signature must name an algorithm that fits the key; SHA-1 RSA is refused', () => {
  const ed = generateKeyPairSync('ed25519').privateKey;
  const data = Buffer.from('x');
  const inner = new SshReader(sshSign(ed, data));
  inner.string();
  const renamed = new SshWriter().string('ecdsa-sha2-nistp256').string(inner.string()).toBuffer();
  assert.equal(verifySshSignature(publicKeyToWire(ed), data, renamed), false);

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const s256 = sshSign(rsa, data, { rsaHash: 'sha256' });
  assert.equal(new SshReader(s256).text(), 'rsa-sha2-256');
  assert.ok(verifySshSignature(publicKeyToWire(rsa), data, s256));
  const r = new SshReader(s256);
  r.string();
  const sha1Named = new SshWriter().string('ssh-rsa').string(r.string()).toBuffer();
  assert.equal(verifySshSignature(publicKeyToWire(rsa), data, sha1Named), false);
});

test('wireToPublicKey refuses certificates, bad curves and short keys with clear messages', () => {
  const certLike = new SshWriter().string('ssh-ed25519-cert-v01@openssh.com').string(Buffer.alloc(32)).toBuffer();
  assert.throws(() => wireToPublicKey(certLike), /is a certificate, not a plain public key/);
  const badLen = new SshWriter().string('ssh-ed25519').string(Buffer.alloc(31)).toBuffer();
  assert.throws(() => wireToPublicKey(badLen), /31 bytes, expected 32/);
  const ec = publicKeyToWire(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const r = new SshReader(ec);
  r.string();
  r.string();
  const wrongCurve = new SshWriter().string('ecdsa-sha2-nistp256').string('nistp384').string(r.string()).toBuffer();
  assert.throws(() => wireToPublicKey(wrongCurve), /does not match key type/);
  assert.throws(() => parseAuthorizedKey('ssh-ed25519 notbase64!!'), /not an OpenSSH public key line/);
});

test('fingerprints match ssh-keygen -l', () => {
  const t = tempDir();
  try {
    for (const kind of KINDS) {
      const blob = publicKeyToWire(kind.gen());
      const path = t.file(`${kind.name.replace(' ', '_')}.pub`, formatAuthorizedKey(blob, 'x') + '\n');
      const out = sshKeygen(['-l', '-E', 'sha256', '-f', path]).stdout;
      assert.equal(out.split(' ')[1], fingerprintSha256(blob));
    }
  } finally {
    t.cleanup();
  }
});

test("OpenSSH private key files: ssh-keygen reads ours, we read ssh-keygen's", () => {
  const t = tempDir();
  try {
    for (const kind of KINDS) {
      const priv: KeyObject = kind.gen();
      const path = t.file(`ours_${kind.sshType}`, privateKeyToOpenSSH(priv, 'our comment'));
      const derived = sshKeygen(['-y', '-f', path]).stdout.trim();
      assert.equal(derived, formatAuthorizedKey(publicKeyToWire(priv), 'our comment'));
      assert.ok(publicKeyToWire(openSSHToPrivateKey(readFileSync(path, 'utf8'))).equals(publicKeyToWire(priv)));
    }
    for (const [type, bits] of [
      ['ed25519', '256'],
      ['ecdsa', '256'],
      ['rsa', '2048'],
    ] as const) {
      const path = t.file(`theirs_${type}`);
      sshKeygen(['-q', '-t', type, '-b', bits, '-N', '', '-C', 'theirs', '-f', path]);
      const priv = openSSHToPrivateKey(readFileSync(path, 'utf8'));
      const pubBlob = parseAuthorizedKey(readFileSync(`${path}.pub`, 'utf8'));
      assert.ok(publicKeyToWire(priv).equals(pubBlob), `${type}: private key matches ssh-keygen's .pub`);
      const sig = sshSign(priv, Buffer.from('d'));
      assert.ok(verifySshSignature(pubBlob, Buffer.from('d'), sig));
    }
    assert.throws(
      () => openSSHToPrivateKey('-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----'),
      /not an OpenSSH private key/,
    );
  } finally {
    t.cleanup();
  }
});
