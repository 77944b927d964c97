import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { publicKeyToWire, signCertificate, sshSign } from '../../src-shared/sshcert/index.ts';
import { checkCertificateLogin, checkSourceAddress, signatureAlgorithm, type PublicKeyAttempt } from './cert-auth.ts';

const now = new Date('2030-06-01T12:00:00Z');
const nowSec = BigInt(Math.floor(now.getTime() / 1000));

function keyPair(type: 'ed25519' | 'ec' = 'ed25519') {
  return type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
}

const ca = keyPair();
const caBlob = publicKeyToWire(ca.publicKey);
const user = keyPair();

function cert(opts: Partial<Parameters<typeof signCertificate>[0]> & { key?: KeyObject } = {}): Buffer {
  return signCertificate({
    publicKey: publicKeyToWire(opts.key ?? user.publicKey),
    type: 'user',
    keyId: 'alice',
    principals: ['root'],
    validAfter: nowSec - 60n,
    validBefore: nowSec + 3600n,
    caPrivateKey: ca.privateKey,
    ...opts,
  });
}

function attempt(
  blob: Buffer,
  signer: KeyObject | undefined = user.privateKey,
  extra: Partial<PublicKeyAttempt> = {},
): PublicKeyAttempt {
  const signedData = Buffer.from('session-id and userauth request');
  return {
    login: 'root',
    keyAlgo: 'ssh-ed25519-cert-v01@openssh.com',
    keyBlob: blob,
    clientAddress: '127.0.0.1',
    signedData,
    signature: signer ? sshSign(signer, signedData) : undefined,
    ...extra,
  };
}

describe('checkCertificateLogin', () => {
  it('accepts a valid certificate with a signature by the certified key', () => {
    const r = checkCertificateLogin(attempt(cert()), [caBlob], now);
    assert.equal(r.ok, true);
    assert.equal(r.ok && r.cert.keyId, 'alice');
  });

  it('accepts the query step (no signature) only for a good certificate', () => {
    assert.equal(checkCertificateLogin(attempt(cert(), undefined), [caBlob], now).ok, true);
    const r = checkCertificateLogin(attempt(cert({ principals: ['bob'] }), undefined), [caBlob], now);
    assert.equal(r.ok, false);
  });

  it('refuses a signature by another key than the certified one', () => {
    const r = checkCertificateLogin(attempt(cert(), keyPair().privateKey), [caBlob], now);
    assert.deepEqual(r.ok ? undefined : r.reason, 'signature by the certified key does not verify');
  });

  it('refuses a signature over other data', () => {
    const a = attempt(cert());
    a.signedData = Buffer.from('something else');
    assert.equal(checkCertificateLogin(a, [caBlob], now).ok, false);
  });

  it('refuses a plain key', () => {
    const r = checkCertificateLogin(
      attempt(publicKeyToWire(user.publicKey), user.privateKey, { keyAlgo: 'ssh-ed25519' }),
      [caBlob],
      now,
    );
    assert.match(r.ok ? '' : r.reason, /plain public key \(ssh-ed25519\) refused/);
  });

  it('refuses garbage claiming to be a certificate', () => {
    const r = checkCertificateLogin(attempt(Buffer.from('not a cert')), [caBlob], now);
    assert.match(r.ok ? '' : r.reason, /^malformed certificate/);
  });

  it('refuses when the algorithm name does not match the certificate', () => {
    const r = checkCertificateLogin(
      attempt(cert(), user.privateKey, { keyAlgo: 'ecdsa-sha2-nistp256-cert-v01@openssh.com' }),
      [caBlob],
      now,
    );
    assert.match(r.ok ? '' : r.reason, /does not match certificate type ssh-ed25519-cert-v01/);
  });

  it('refuses wrong principal, expiry, foreign CA, host certs and unknown critical options', () => {
    const reason = (blob: Buffer, cas = [caBlob]) => {
      const r = checkCertificateLogin(attempt(blob), cas, now);
      return r.ok ? 'accepted' : r.reason;
    };
    assert.match(
      reason(cert({ principals: ['bob'] })),
      /login "root" is not among the certificate's principals \(bob\)/,
    );
    assert.match(reason(cert({ validAfter: nowSec - 7200n, validBefore: nowSec - 3600n })), /certificate expired/);
    assert.match(reason(cert(), [publicKeyToWire(keyPair().publicKey)]), /not signed by this cluster's user CA/);
    assert.match(reason(cert(), []), /no trusted user CA is configured/);
    assert.match(reason(cert({ type: 'host' })), /host certificate where a user certificate is needed/);
    assert.match(
      reason(cert({ criticalOptions: { 'verify-required': '' } })),
      /critical option\(s\) "verify-required"/,
    );
  });

  it('enforces source-address', () => {
    const blob = cert({ criticalOptions: { 'source-address': '10.0.0.0/8,192.168.1.7' } });
    assert.equal(
      checkCertificateLogin(attempt(blob, user.privateKey, { clientAddress: '10.1.2.3' }), [caBlob], now).ok,
      true,
    );
    const r = checkCertificateLogin(attempt(blob), [caBlob], now);
    assert.match(r.ok ? '' : r.reason, /client address 127.0.0.1 is not in the certificate's source-address list/);
  });

  it('refuses a signature named after the certificate algorithm (the unpatched ssh2 client bug)', () => {
    const a = attempt(cert());
    const raw = a.signature!.subarray(4 + 'ssh-ed25519'.length + 4);
    const name = Buffer.from('ssh-ed25519-cert-v01@openssh.com');
    const wrong = Buffer.concat([u32(name.length), name, u32(raw.length), raw]);
    const r = checkCertificateLogin({ ...a, signature: wrong }, [caBlob], now);
    assert.match(r.ok ? '' : r.reason, /signature algorithm ssh-ed25519-cert-v01@openssh.com does not match/);
  });

  it('works for ECDSA keys too', () => {
    const ec = keyPair('ec');
    const blob = cert({ key: ec.publicKey });
    const r = checkCertificateLogin(
      attempt(blob, ec.privateKey, { keyAlgo: 'ecdsa-sha2-nistp256-cert-v01@openssh.com' }),
      [caBlob],
      now,
    );
    assert.equal(r.ok, true, r.ok ? '' : r.reason);
  });
});

describe('signatureAlgorithm', () => {
  it('reads the name of a well-formed blob and rejects anything else', () => {
    const name = Buffer.from('ssh-ed25519');
    const body = Buffer.alloc(64, 1);
    assert.equal(signatureAlgorithm(Buffer.concat([u32(name.length), name, u32(64), body])), 'ssh-ed25519');
    assert.equal(signatureAlgorithm(body), undefined);
    assert.equal(signatureAlgorithm(Buffer.concat([u32(name.length), name, u32(65), body])), undefined);
  });
});

describe('checkSourceAddress', () => {
  it('matches CIDRs and single addresses, v4 and v6, and IPv4-mapped peers', () => {
    assert.equal(checkSourceAddress('127.0.0.0/8', '127.0.0.1'), undefined);
    assert.equal(checkSourceAddress('127.0.0.0/8', '::ffff:127.0.0.1'), undefined);
    assert.equal(checkSourceAddress('192.168.0.1, ::1', '::1'), undefined);
    assert.equal(checkSourceAddress('2001:db8::/32', '2001:db8::5'), undefined);
    assert.match(checkSourceAddress('10.0.0.0/8', '11.0.0.1') ?? '', /is not in the certificate's source-address list/);
  });

  it('refuses malformed lists rather than guessing', () => {
    for (const bad of ['', 'example.com', '10.0.0.0/33', '10.0.0.0/8/1', '10.0.0.0/x']) {
      assert.match(checkSourceAddress(bad, '10.0.0.1') ?? '', /is malformed/, bad);
    }
  });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
