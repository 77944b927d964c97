// node:crypto KeyObjects <-> OpenSSH public-key blobs, authorized_keys lines, SSH signatures and
// the unencrypted "openssh-key-v1" private key file. JWK is the bridge: node imports and exports
// raw key components through it without any ASN.1 handling on our side.
import { createPrivateKey, createPublicKey, createHash, randomBytes, sign, verify } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { GatehouseError, ErrorCode } from '../errors.ts';
import { SshReader, SshWriter } from './wire.ts';

export const SSH_ED25519 = 'ssh-ed25519';
export const SSH_RSA = 'ssh-rsa';

interface Curve {
  sshName: string; // "nistp256"
  jwkCrv: string; // "P-256"
  hash: string;
  size: number; // bytes per coordinate / scalar
}
const CURVES: Curve[] = [
  { sshName: 'nistp256', jwkCrv: 'P-256', hash: 'sha256', size: 32 },
  { sshName: 'nistp384', jwkCrv: 'P-384', hash: 'sha384', size: 48 },
  { sshName: 'nistp521', jwkCrv: 'P-521', hash: 'sha512', size: 66 },
];
const curveBySshType = (t: string) => CURVES.find((c) => `ecdsa-sha2-${c.sshName}` === t);
const curveByJwk = (crv: string | undefined) => CURVES.find((c) => c.jwkCrv === crv);

const b64u = (b: Buffer) => b.toString('base64url');
const fromB64u = (s: string | undefined, what: string): Buffer => {
  if (typeof s !== 'string') throw new GatehouseError(ErrorCode.BAD_REQUEST, `key has no ${what} component`);
  return Buffer.from(s, 'base64url');
};
const padTo = (b: Buffer, len: number) => (b.length >= len ? b : Buffer.concat([Buffer.alloc(len - b.length), b]));
const bigintOf = (b: Buffer) => (b.length === 0 ? 0n : BigInt('0x' + b.toString('hex')));
const bytesOf = (v: bigint) => {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return Buffer.from(hex, 'hex');
};

function publicJwk(key: KeyObject): JsonWebKey {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'jwk' });
}

/** The SSH key type name ("ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa") of a KeyObject. */
export function sshKeyType(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return SSH_ED25519;
    case 'rsa':
      return SSH_RSA;
    case 'ec': {
      const c = curveByJwk(publicJwk(key).crv);
      if (c) return `ecdsa-sha2-${c.sshName}`;
      break;
    }
  }
  throw new GatehouseError(ErrorCode.BAD_REQUEST, `unsupported key for SSH: ${key.asymmetricKeyType ?? key.type}`);
}

/** Wire-format public key blob (the base64 part of an authorized_keys line). Accepts private keys too. */
export function publicKeyToWire(key: KeyObject): Buffer {
  const type = sshKeyType(key);
  const jwk = publicJwk(key);
  const w = new SshWriter().string(type);
  if (type === SSH_ED25519) return w.string(fromB64u(jwk.x, 'x')).toBuffer();
  if (type === SSH_RSA) return w.mpint(fromB64u(jwk.e, 'e')).mpint(fromB64u(jwk.n, 'n')).toBuffer();
  const c = curveBySshType(type)!;
  const q = Buffer.concat([Buffer.from([4]), padTo(fromB64u(jwk.x, 'x'), c.size), padTo(fromB64u(jwk.y, 'y'), c.size)]);
  return w.string(c.sshName).string(q).toBuffer();
}

/** Reads the key-specific fields of `type` from `r` into a public JWK (shared with cert parsing). */
export function readPublicKeyFields(r: SshReader, type: string): JsonWebKey {
  if (type === SSH_ED25519) {
    const x = r.string('ed25519 public key');
    if (x.length !== 32) r.fail(`ed25519 public key is ${x.length} bytes, expected 32`);
    return { kty: 'OKP', crv: 'Ed25519', x: b64u(x) };
  }
  if (type === SSH_RSA) {
    const e = r.mpintBytes('rsa exponent');
    const n = r.mpintBytes('rsa modulus');
    if (n.length * 8 < 1024) r.fail(`RSA modulus of ${n.length * 8} bits is too small`);
    return { kty: 'RSA', e: b64u(e), n: b64u(n) };
  }
  const c = curveBySshType(type);
  if (!c) r.fail(`unsupported key type "${type}"`);
  const curveName = r.text('curve name');
  if (curveName !== c.sshName) r.fail(`curve "${curveName}" does not match key type "${type}"`);
  const q = r.string('ec point');
  if (q.length !== 1 + 2 * c.size || q[0] !== 4) r.fail('ec point is not an uncompressed point of the right size');
  return { kty: 'EC', crv: c.jwkCrv, x: b64u(q.subarray(1, 1 + c.size)), y: b64u(q.subarray(1 + c.size)) };
}

/** How many string/mpint fields follow the type name in a plain public key blob of `type`. */
export function publicKeyFieldCount(type: string): number | undefined {
  if (type === SSH_ED25519) return 1;
  if (type === SSH_RSA || curveBySshType(type)) return 2;
  return undefined;
}

export function wireToPublicKey(blob: Buffer): KeyObject {
  const r = new SshReader(blob, { what: 'public key' });
  const type = r.text('key type');
  if (type.endsWith('-cert-v01@openssh.com')) r.fail(`"${type}" is a certificate, not a plain public key`);
  const jwk = readPublicKeyFields(r, type);
  r.end();
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch (e) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `malformed public key: ${(e as Error).message}`);
  }
}

/** "type base64 [comment]" as in authorized_keys, known_hosts and *.pub files. */
export function formatAuthorizedKey(blob: Buffer, comment?: string): string {
  const r = new SshReader(blob, { what: 'public key' });
  const type = r.text('key type');
  return `${type} ${blob.toString('base64')}${comment ? ` ${comment}` : ''}`;
}

/**
 * The blob of an authorized_keys / *.pub / *-cert.pub line. Leading options ("cert-authority",
 * `from="..."`) are skipped: the key is the first "type base64" pair whose blob names that type.
 */
export function parseAuthorizedKey(line: string): Buffer {
  const tokens = line.trim().split(/\s+/);
  for (let i = 0; i + 1 < tokens.length; i++) {
    const type = tokens[i]!;
    const data = tokens[i + 1]!;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) continue;
    const blob = Buffer.from(data, 'base64');
    if (blob.length < 4 || blob.readUInt32BE(0) !== Buffer.byteLength(type)) continue;
    if (blob.subarray(4, 4 + Buffer.byteLength(type)).toString('latin1') === type) return blob;
  }
  throw new GatehouseError(ErrorCode.BAD_REQUEST, `not an OpenSSH public key line: "${line.slice(0, 60)}"`);
}

/** OpenSSH-style fingerprint: "SHA256:" + unpadded base64 of SHA-256(blob). */
export function fingerprintSha256(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

export interface SshSignOptions {
  /** RSA only: which rsa-sha2 algorithm to use. Default sha512 (what OpenSSH prefers). */
  rsaHash?: 'sha256' | 'sha512';
}

/** An SSH signature blob: string algorithm, string signature (RFC 4253 §6.6, RFC 5656, RFC 8709, RFC 8332). */
export function sshSign(privateKey: KeyObject, data: Buffer, opts: SshSignOptions = {}): Buffer {
  const type = sshKeyType(privateKey);
  if (type === SSH_ED25519)
    return new SshWriter()
      .string(type)
      .string(sign(null, data, privateKey))
      .toBuffer();
  if (type === SSH_RSA) {
    const hash = opts.rsaHash ?? 'sha512';
    return new SshWriter()
      .string(`rsa-sha2-${hash.slice(3)}`)
      .string(sign(hash, data, privateKey))
      .toBuffer();
  }
  const c = curveBySshType(type)!;
  const rs = sign(c.hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const inner = new SshWriter().mpint(rs.subarray(0, c.size)).mpint(rs.subarray(c.size)).toBuffer();
  return new SshWriter().string(type).string(inner).toBuffer();
}

/**
 * Checks an SSH signature blob over `data` with a plain public key blob. False for anything wrong,
 * including malformed input, an algorithm that does not fit the key, and SHA-1 RSA ("ssh-rsa").
 */
export function verifySshSignature(publicKeyBlob: Buffer, data: Buffer, signatureBlob: Buffer): boolean {
  try {
    const key = wireToPublicKey(publicKeyBlob);
    const type = sshKeyType(key);
    const r = new SshReader(signatureBlob, { what: 'signature' });
    const algo = r.text('signature algorithm');
    const sig = r.string('signature');
    r.end();
    if (type === SSH_ED25519) return algo === SSH_ED25519 && sig.length === 64 && verify(null, data, key, sig);
    if (type === SSH_RSA) {
      const hash = algo === 'rsa-sha2-256' ? 'sha256' : algo === 'rsa-sha2-512' ? 'sha512' : undefined;
      const modLen = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
      if (!hash || sig.length > modLen) return false;
      // OpenSSH accepts signatures shorter than the modulus (leading zeros dropped); OpenSSL wants full length.
      return verify(hash, data, key, padTo(sig, modLen));
    }
    const c = curveBySshType(type)!;
    if (algo !== type) return false;
    const inner = new SshReader(sig, { what: 'ecdsa signature' });
    const rr = inner.mpintBytes('r');
    const ss = inner.mpintBytes('s');
    inner.end();
    if (rr.length > c.size || ss.length > c.size) return false;
    const p1363 = Buffer.concat([padTo(rr, c.size), padTo(ss, c.size)]);
    return verify(c.hash, data, { key, dsaEncoding: 'ieee-p1363' }, p1363);
  } catch {
    return false;
  }
}

const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
const PEM_BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const PEM_END = '-----END OPENSSH PRIVATE KEY-----';

/** The unencrypted OpenSSH private key file that `ssh -i`, `ssh-keygen` and ssh2 load. */
export function privateKeyToOpenSSH(key: KeyObject, comment = ''): string {
  if (key.type !== 'private')
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'privateKeyToOpenSSH needs a private key');
  const type = sshKeyType(key);
  const jwk = key.export({ format: 'jwk' });
  const pub = publicKeyToWire(key);
  const check = randomBytes(4).readUInt32BE();
  const priv = new SshWriter().uint32(check).uint32(check).string(type);
  if (type === SSH_ED25519) {
    const x = fromB64u(jwk.x, 'x');
    priv.string(x).string(Buffer.concat([fromB64u(jwk.d, 'd'), x]));
  } else if (type === SSH_RSA) {
    priv.mpint(fromB64u(jwk.n, 'n')).mpint(fromB64u(jwk.e, 'e')).mpint(fromB64u(jwk.d, 'd'));
    priv.mpint(fromB64u(jwk.qi, 'qi')).mpint(fromB64u(jwk.p, 'p')).mpint(fromB64u(jwk.q, 'q'));
  } else {
    const r = new SshReader(pub);
    r.string();
    priv.string(r.string()).string(r.string()).mpint(fromB64u(jwk.d, 'd'));
  }
  priv.string(comment);
  let body = priv.toBuffer();
  // Padding 1, 2, 3, ... up to the cipher block size (8 for "none"); OpenSSH checks the pattern.
  const padLen = (8 - (body.length % 8)) % 8;
  body = Buffer.concat([body, Buffer.from(Array.from({ length: padLen }, (_, i) => i + 1))]);
  const file = new SshWriter()
    .raw(OPENSSH_MAGIC)
    .string('none')
    .string('none')
    .string('')
    .uint32(1)
    .string(pub)
    .string(body)
    .toBuffer();
  const lines = file.toString('base64').match(/.{1,70}/g) ?? [];
  return `${PEM_BEGIN}\n${lines.join('\n')}\n${PEM_END}\n`;
}

/** Reads an unencrypted OpenSSH private key file (as written by ssh-keygen or privateKeyToOpenSSH). */
export function openSSHToPrivateKey(text: string): KeyObject {
  const m = new RegExp(`${PEM_BEGIN}([\\s\\S]*?)${PEM_END}`).exec(text);
  if (!m)
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'not an OpenSSH private key (no BEGIN OPENSSH PRIVATE KEY block)');
  const file = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  if (!file.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'malformed OpenSSH private key: bad magic');
  }
  const r = new SshReader(file.subarray(OPENSSH_MAGIC.length), { what: 'OpenSSH private key' });
  const cipher = r.text('cipher name');
  const kdf = r.text('kdf name');
  r.string('kdf options');
  if (cipher !== 'none' || kdf !== 'none') r.fail(`encrypted keys are not supported (cipher ${cipher}, kdf ${kdf})`);
  if (r.uint32('key count') !== 1) r.fail('exactly one key expected');
  const pub = r.string('public key');
  const p = new SshReader(r.string('private section'), { what: 'OpenSSH private key' });
  if (p.uint32('checkint') !== p.uint32('checkint')) r.fail('check integers differ');
  const type = p.text('key type');
  let jwk: JsonWebKey;
  if (type === SSH_ED25519) {
    const x = p.string('ed25519 public');
    const both = p.string('ed25519 private');
    if (x.length !== 32 || both.length !== 64) p.fail('bad ed25519 key lengths');
    jwk = { kty: 'OKP', crv: 'Ed25519', x: b64u(x), d: b64u(both.subarray(0, 32)) };
  } else if (type === SSH_RSA) {
    const [n, e, d, qi, pp, q] = ['n', 'e', 'd', 'iqmp', 'p', 'q'].map((f) => p.mpintBytes(f)) as Buffer[];
    const dN = bigintOf(d!);
    const dp = bytesOf(dN % (bigintOf(pp!) - 1n));
    const dq = bytesOf(dN % (bigintOf(q!) - 1n));
    jwk = {
      kty: 'RSA',
      n: b64u(n!),
      e: b64u(e!),
      d: b64u(d!),
      p: b64u(pp!),
      q: b64u(q!),
      dp: b64u(dp),
      dq: b64u(dq),
      qi: b64u(qi!),
    };
  } else {
    const c = curveBySshType(type);
    if (!c) return p.fail(`unsupported key type "${type}"`);
    jwk = readPublicKeyFields(p, type);
    jwk.d = b64u(padTo(p.mpintBytes('ec private scalar'), c.size));
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: jwk, format: 'jwk' });
  } catch (e) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `malformed OpenSSH private key: ${(e as Error).message}`);
  }
  if (!publicKeyToWire(key).equals(pub)) p.fail('public key does not match the private key');
  return key;
}
