import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { GatehouseError } from '../errors.ts';
import { SshWriter } from './wire.ts';
import { formatAuthorizedKey, parseAuthorizedKey, privateKeyToOpenSSH, publicKeyToWire } from './keys.ts';
import {
  CERT_FOREVER,
  STANDARD_USER_EXTENSIONS,
  formatCertificateLine,
  parseCertificate,
  parseCertificateLine,
  signCertificate,
  verifyCertificate,
  verifyCertificateBlob,
} from './cert.ts';
import type { SignCertificateOptions } from './cert.ts';
import { sshKeygen, tempDir } from '../../test-support/sshcert-testkit.ts';

const ed25519 = () => generateKeyPairSync('ed25519').privateKey;
const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const NOW = new Date('2026-03-01T12:00:00Z');
const nowS = BigInt(NOW.getTime() / 1000);
const userCA = ed25519();
const userCABlob = publicKeyToWire(userCA);

function userCert(over: Partial<SignCertificateOptions> = {}): Buffer {
  return signCertificate({
    publicKey: publicKeyToWire(p256()),
    type: 'user',
    keyId: 'alice@example.com',
    principals: ['alice', 'bob'],
    validAfter: nowS - 60n,
    validBefore: nowS + 3600n,
    extensions: { ...STANDARD_USER_EXTENSIONS },
    caPrivateKey: userCA,
    ...over,
  });
}
const verifyUser = (
  blob: Buffer,
  principal = 'alice',
  extra: { now?: Date; allowedCriticalOptions?: string[]; trustedCAs?: Buffer[] } = {},
) =>
  verifyCertificate(parseCertificate(blob), { trustedCAs: [userCABlob], type: 'user', principal, now: NOW, ...extra });
function failureOf(r: ReturnType<typeof verifyCertificate>): [string, string] {
  assert.equal(r.ok, false, 'expected verification to fail');
  return r.ok ? ['', ''] : [r.failure, r.reason];
}

test('sign + parse round trip keeps every field', () => {
  const key = publicKeyToWire(p256());
  const blob = signCertificate({
    publicKey: key,
    type: 'user',
    keyId: 'alice@example.com',
    principals: ['alice', 'bob'],
    serial: 7n,
    validAfter: nowS - 60n,
    validBefore: nowS + 3600n,
    criticalOptions: { 'force-command': '/bin/true' },
    extensions: { 'permit-pty': '', 'gatehouse-device-id@gatehouse': 'dev-1' },
    caPrivateKey: userCA,
  });
  const c = parseCertificate(blob);
  assert.equal(c.certKeyType, 'ecdsa-sha2-nistp256-cert-v01@openssh.com');
  assert.ok(c.publicKey.equals(key));
  assert.equal(c.nonce.length, 32);
  assert.equal(c.serial, 7n);
  assert.equal(c.type, 'user');
  assert.equal(c.keyId, 'alice@example.com');
  assert.deepEqual(c.principals, ['alice', 'bob']);
  assert.equal(c.validAfter, nowS - 60n);
  assert.equal(c.validBefore, nowS + 3600n);
  assert.deepEqual(c.criticalOptions, { 'force-command': '/bin/true' });
  // Wire order is sorted by name whatever order the caller gave.
  assert.deepEqual(Object.keys(c.extensions), ['gatehouse-device-id@gatehouse', 'permit-pty']);
  assert.equal(c.extensions['gatehouse-device-id@gatehouse'], 'dev-1');
  assert.ok(c.signatureKey.equals(userCABlob));
  assert.ok(c.blob.equals(blob));
  assert.ok(blob.subarray(0, c.signedData.length).equals(c.signedData));
  const line = formatCertificateLine(blob, 'alice');
  assert.ok(parseCertificateLine(line).blob.equals(blob));
  assert.ok(verifyUser(blob, 'bob', { allowedCriticalOptions: ['force-command'] }).ok);
  assert.notDeepEqual(parseCertificate(userCert()).nonce, parseCertificate(userCert()).nonce, 'nonce is random');
});

test('host certificates for ed25519 keys; an empty principal list is a wildcard only for hosts', () => {
  const hostCA = ed25519();
  const blob = signCertificate({
    publicKey: publicKeyToWire(ed25519()),
    type: 'host',
    keyId: 'node-1',
    principals: [],
    validAfter: 0n,
    validBefore: CERT_FOREVER,
    caPrivateKey: hostCA,
  });
  const c = parseCertificate(blob);
  assert.equal(c.certKeyType, 'ssh-ed25519-cert-v01@openssh.com');
  const r = verifyCertificate(c, { trustedCAs: [publicKeyToWire(hostCA)], type: 'host', principal: 'node-1.example' });
  assert.ok(r.ok);
  const [failure, reason] = failureOf(verifyUser(userCert({ principals: [] }), 'alice'));
  assert.equal(failure, 'principal-not-allowed');
  assert.match(reason, /lists no principals/);
});

test('a tampered signature or body fails as bad-signature', () => {
  const blob = userCert();
  const sigFlip = Buffer.from(blob);
  sigFlip[sigFlip.length - 5]! ^= 0x01;
  assert.equal(failureOf(verifyUser(sigFlip))[0], 'bad-signature');
  // Grant a principal by editing the body: "bob" -> "rob".
  const body = Buffer.from(blob);
  const at = body.indexOf(Buffer.from('bob'));
  body[at] = 'r'.charCodeAt(0);
  const [failure, reason] = failureOf(verifyUser(body, 'rob'));
  assert.equal(failure, 'bad-signature');
  assert.match(reason, /altered or damaged/);
});

test('a certificate from another CA is untrusted', () => {
  const [failure, reason] = failureOf(verifyUser(userCert({ caPrivateKey: ed25519() })));
  assert.equal(failure, 'untrusted-ca');
  assert.match(reason, /not signed by this cluster's user CA \(it was signed by SHA256:/);
});

test('validity window: expired, not yet valid, and 60 s of skew allowed only before validAfter', () => {
  const expired = failureOf(verifyUser(userCert({ validAfter: nowS - 7200n, validBefore: nowS - 1n })));
  assert.deepEqual(expired, ['expired', 'certificate expired at 2026-03-01T11:59:59Z; log in again']);
  assert.equal(failureOf(verifyUser(userCert({ validAfter: nowS - 7200n, validBefore: nowS })))[0], 'expired');
  const future = failureOf(verifyUser(userCert({ validAfter: nowS + 61n, validBefore: nowS + 3600n })));
  assert.equal(future[0], 'not-yet-valid');
  assert.match(future[1], /not valid before 2026-03-01T12:01:01Z/);
  assert.ok(verifyUser(userCert({ validAfter: nowS + 60n, validBefore: nowS + 3600n })).ok, 'skew tolerance');
  assert.ok(verifyUser(userCert({ validAfter: 0n, validBefore: CERT_FOREVER })).ok);
});

test('a host certificate is refused where a user certificate is needed', () => {
  const [failure, reason] = failureOf(verifyUser(userCert({ type: 'host' })));
  assert.equal(failure, 'wrong-type');
  assert.match(reason, /host certificate where a user certificate is needed/);
});

test('a login outside the principals is refused and the reason lists them', () => {
  const [failure, reason] = failureOf(verifyUser(userCert(), 'root'));
  assert.equal(failure, 'principal-not-allowed');
  assert.equal(reason, 'login "root" is not among the certificate\'s principals (alice, bob)');
});

test('critical options must be known to the verifier', () => {
  const blob = userCert({ criticalOptions: { 'source-address': '10.0.0.0/8', 'verify-required': '' } });
  const [failure, reason] = failureOf(verifyUser(blob));
  assert.equal(failure, 'unsupported-critical-option');
  assert.match(reason, /"source-address", "verify-required"/);
  assert.equal(
    failureOf(verifyUser(blob, 'alice', { allowedCriticalOptions: ['source-address'] }))[0],
    'unsupported-critical-option',
  );
  assert.ok(verifyUser(blob, 'alice', { allowedCriticalOptions: ['source-address', 'verify-required'] }).ok);
});

test('an option named __proto__ is kept (so it cannot hide) and duplicates are refused', () => {
  const opts = (pairs: [string, string][]) =>
    pairs
      .reduce(
        (w, [n, v]) => w.string(n).string(v === '' ? Buffer.alloc(0) : new SshWriter().string(v).toBuffer()),
        new SshWriter(),
      )
      .toBuffer();
  const good = parseCertificate(userCert());
  const rebuild = (crit: Buffer) => {
    // Re-sign the same body with replaced critical options, so only the options differ.
    const w = new SshWriter().string(good.certKeyType).string(good.nonce);
    const pk = good.publicKey.subarray(4 + 19); // after string "ecdsa-sha2-nistp256"
    w.raw(pk).uint64(0n).uint32(1).string('k').string(new SshWriter().string('alice').toBuffer());
    w.uint64(0n).uint64(CERT_FOREVER).string(crit).string('').string('').string(userCABlob);
    return w.toBuffer();
  };
  // JSON.parse makes "__proto__" an own property, as a hostile or careless caller could.
  const protoBlob = userCert({ criticalOptions: JSON.parse('{"__proto__": "x"}') as Record<string, string> });
  assert.deepEqual(Object.keys(parseCertificate(protoBlob).criticalOptions), ['__proto__']);
  assert.equal(failureOf(verifyUser(protoBlob))[0], 'unsupported-critical-option');
  assert.throws(
    () =>
      parseCertificate(
        Buffer.concat([
          rebuild(
            opts([
              ['a', ''],
              ['a', ''],
            ]),
          ),
          new SshWriter().string(Buffer.alloc(10)).toBuffer(),
        ]),
      ),
    /"a" appears twice/,
  );
});

test('garbage is CERT_INVALID with a clear message', () => {
  const isCertInvalid = (re: RegExp) => (e: unknown) =>
    e instanceof GatehouseError && e.code === 'CERT_INVALID' && re.test(e.message);
  assert.throws(() => parseCertificate(Buffer.from('hello world')), isCertInvalid(/malformed SSH certificate/));
  assert.throws(
    () => parseCertificate(publicKeyToWire(ed25519())),
    isCertInvalid(/"ssh-ed25519" is not a certificate key type/),
  );
  const blob = userCert();
  assert.throws(() => parseCertificate(blob.subarray(0, blob.length - 10)), isCertInvalid(/truncated/));
  assert.throws(() => parseCertificate(Buffer.concat([blob, Buffer.from([0])])), isCertInvalid(/trailing/));
  assert.throws(() => parseCertificateLine('ssh-ed25519 AAAA'), isCertInvalid(/not an OpenSSH certificate line/));
  const r = verifyCertificateBlob(Buffer.from('nope'), { trustedCAs: [userCABlob], type: 'user' });
  assert.equal(failureOf(r)[0], 'not-a-certificate');
});

test('signCertificate refuses an empty validity window and certificate keys', () => {
  assert.throws(() => userCert({ validAfter: nowS, validBefore: nowS }), /validity window/);
  assert.throws(() => userCert({ publicKey: userCert() }), /is a certificate/);
});

test('INTEROP: ssh-keygen -L reads and checks certificates we sign (ed25519, ecdsa and rsa CAs)', () => {
  const t = tempDir();
  try {
    for (const ca of [userCA, p256(), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey] as KeyObject[]) {
      const blob = userCert({
        caPrivateKey: ca,
        keyId: 'alice@example.com',
        serial: 99n,
        validAfter: 0n,
        validBefore: CERT_FOREVER,
        criticalOptions: { 'force-command': 'echo forced' },
        extensions: { ...STANDARD_USER_EXTENSIONS, 'device@gatehouse': 'dev-7' },
      });
      const path = t.file('alice-cert.pub', formatCertificateLine(blob, 'alice') + '\n');
      const out = sshKeygen(['-L', '-f', path]).stdout;
      assert.match(out, /Type: ecdsa-sha2-nistp256-cert-v01@openssh.com user certificate/);
      assert.match(out, /Key ID: "alice@example.com"/);
      assert.match(out, /Serial: 99/);
      assert.match(out, /Valid: forever/);
      assert.match(out, /Principals: \n\s+alice\n\s+bob\n/);
      assert.match(out, /Critical Options: \n\s+force-command echo forced\n/);
      for (const ext of Object.keys(STANDARD_USER_EXTENSIONS)) assert.match(out, new RegExp(`\\n\\s+${ext}\\n`));
      // ssh-keygen prints unknown extensions as the hex of their (string-wrapped) value.
      assert.match(out, /device@gatehouse UNKNOWN OPTION: 000000056465762d37/);
      // ssh-keygen checks the CA signature while parsing: a flipped bit must make it refuse the file.
      const bad = Buffer.from(blob);
      bad[bad.length - 4]! ^= 0x10;
      t.file('bad-cert.pub', formatCertificateLine(bad) + '\n');
      assert.notEqual(sshKeygen(['-L', '-f', t.file('bad-cert.pub')], { check: false }).status, 0);
    }
  } finally {
    t.cleanup();
  }
});

test('INTEROP: we parse and verify certificates that ssh-keygen -s signed (ecdsa and ed25519 user keys)', () => {
  const t = tempDir();
  try {
    const caPath = t.file('ca');
    sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'ca', '-f', caPath]);
    const caBlob = parseAuthorizedKey(readFileSync(`${caPath}.pub`, 'utf8'));
    for (const [type, expected] of [
      ['ecdsa', 'ecdsa-sha2-nistp256'],
      ['ed25519', 'ssh-ed25519'],
    ] as const) {
      const keyPath = t.file(`user_${type}`);
      sshKeygen(['-q', '-t', type, '-N', '', '-C', 'u', '-f', keyPath]);
      sshKeygen([
        '-q',
        '-s',
        caPath,
        '-I',
        'id',
        '-n',
        'p1,p2',
        '-V',
        '+1h',
        '-O',
        'extension:foo=bar',
        '-z',
        '5',
        `${keyPath}.pub`,
      ]);
      const c = parseCertificateLine(readFileSync(`${keyPath}-cert.pub`, 'utf8'));
      assert.equal(c.certKeyType, `${expected}-cert-v01@openssh.com`);
      assert.ok(c.publicKey.equals(parseAuthorizedKey(readFileSync(`${keyPath}.pub`, 'utf8'))));
      assert.equal(c.keyId, 'id');
      assert.equal(c.serial, 5n);
      assert.deepEqual(c.principals, ['p1', 'p2']);
      assert.equal(c.extensions['foo'], 'bar');
      assert.equal(c.extensions['permit-pty'], '');
      assert.deepEqual(c.criticalOptions, {});
      const ok = verifyCertificate(c, { trustedCAs: [caBlob], type: 'user', principal: 'p2' });
      assert.ok(ok.ok, ok.ok ? '' : ok.reason);
      assert.equal(
        failureOf(verifyCertificate(c, { trustedCAs: [caBlob], type: 'user', principal: 'p3' }))[0],
        'principal-not-allowed',
      );
      assert.equal(
        failureOf(verifyCertificate(c, { trustedCAs: [userCABlob], type: 'user', principal: 'p1' }))[0],
        'untrusted-ca',
      );
      const later = new Date(Date.now() + 2 * 3600_000);
      assert.equal(failureOf(verifyCertificate(c, { trustedCAs: [caBlob], type: 'user', now: later }))[0], 'expired');
    }
    // An ECDSA CA (signature as mpint r, mpint s) signed by ssh-keygen must verify too.
    const ecCa = t.file('ecca', privateKeyToOpenSSH(p256(), 'ecca'));
    const hostKey = t.file('host_ed');
    sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    sshKeygen(['-q', '-s', ecCa, '-h', '-I', 'host', '-n', 'node1', `${hostKey}.pub`]);
    const hc = parseCertificateLine(readFileSync(`${hostKey}-cert.pub`, 'utf8'));
    const ecCaBlob = parseAuthorizedKey(sshKeygen(['-y', '-f', ecCa]).stdout);
    assert.ok(verifyCertificate(hc, { trustedCAs: [ecCaBlob], type: 'host', principal: 'node1' }).ok);
    assert.equal(formatAuthorizedKey(hc.signatureKey).split(' ')[0], 'ecdsa-sha2-nistp256');
  } finally {
    t.cleanup();
  }
});
