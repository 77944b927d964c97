// OpenSSH certificates (PROTOCOL.certkeys, "-cert-v01@openssh.com"): issue, parse, verify.
// Verification mirrors what sshd/ssh check (type, CA, signature, validity, principal, critical
// options) so that our own SSH server and proxy refuse exactly what stock OpenSSH would, with
// reasons a user can act on.
import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { GatehouseError, ErrorCode, isGatehouseError } from '../errors.ts';
import { SshReader, SshWriter } from './wire.ts';
import {
  fingerprintSha256,
  formatAuthorizedKey,
  parseAuthorizedKey,
  publicKeyFieldCount,
  publicKeyToWire,
  sshSign,
  verifySshSignature,
  wireToPublicKey,
} from './keys.ts';
import type { CertVerifyResult, SshCertificate, SshCertType } from './types.ts';

export const CERT_SUFFIX = '-cert-v01@openssh.com';
const CERT_TYPE_CODE: Record<SshCertType, number> = { user: 1, host: 2 };
/** validBefore meaning "never expires". */
export const CERT_FOREVER = 0xffffffffffffffffn;
/** A not-yet-valid certificate is still accepted this long before validAfter (clocks drift). */
export const CLOCK_SKEW_SECONDS = 60n;

/** The extensions `ssh-keygen` gives a user certificate by default; sshd grants nothing without them. */
export const STANDARD_USER_EXTENSIONS: Readonly<Record<string, string>> = Object.freeze({
  'permit-X11-forwarding': '',
  'permit-agent-forwarding': '',
  'permit-port-forwarding': '',
  'permit-pty': '',
  'permit-user-rc': '',
});

/** "ssh-ed25519" -> "ssh-ed25519-cert-v01@openssh.com" (also for signature algorithms: rsa-sha2-512). */
export function certAlgorithmFor(keyAlgorithm: string): string {
  return keyAlgorithm + CERT_SUFFIX;
}

/** "ssh-ed25519-cert-v01@openssh.com" -> "ssh-ed25519"; undefined if it is not a certificate type. */
export function baseAlgorithmOf(certKeyType: string): string | undefined {
  return certKeyType.endsWith(CERT_SUFFIX) ? certKeyType.slice(0, -CERT_SUFFIX.length) : undefined;
}

export interface SignCertificateOptions {
  /** Wire blob of the key being certified. */
  publicKey: Buffer;
  type: SshCertType;
  keyId: string;
  principals: string[];
  validAfter: bigint;
  validBefore: bigint;
  criticalOptions?: Record<string, string>;
  extensions?: Record<string, string>;
  serial?: bigint;
  caPrivateKey: KeyObject;
}

// Options and extensions: sorted by name (OpenSSH refuses other orders); an empty value is an empty
// string, any other value is a string wrapped in a string.
function encodeOptions(opts: Record<string, string> | undefined): Buffer {
  const w = new SshWriter();
  // Byte order of the UTF-8 names, as OpenSSH's strcmp sees them.
  const names = Object.keys(opts ?? {}).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    if (name === '') throw new GatehouseError(ErrorCode.BAD_REQUEST, 'certificate option name must not be empty');
    const value = opts![name]!;
    w.string(name).string(value === '' ? Buffer.alloc(0) : new SshWriter().string(value).toBuffer());
  }
  return w.toBuffer();
}

function decodeOptions(data: Buffer, what: string): Record<string, string> {
  const r = new SshReader(data, { code: ErrorCode.CERT_INVALID, what });
  const out: Record<string, string> = {};
  while (r.remaining > 0) {
    const name = r.text('name');
    const raw = r.string(`value of ${name}`);
    let value = '';
    if (raw.length > 0) {
      const inner = new SshReader(raw, { code: ErrorCode.CERT_INVALID, what: `${what} "${name}"` });
      value = inner.text('value');
      inner.end();
    }
    if (Object.prototype.hasOwnProperty.call(out, name)) r.fail(`"${name}" appears twice`);
    // defineProperty, not assignment: a name like "__proto__" must become a visible key, not vanish.
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function signCertificate(opts: SignCertificateOptions): Buffer {
  const bad = (m: string) => new GatehouseError(ErrorCode.BAD_REQUEST, `cannot sign certificate: ${m}`);
  if (opts.validAfter < 0n || opts.validBefore > CERT_FOREVER || opts.validAfter >= opts.validBefore) {
    throw bad(`validity window ${opts.validAfter}..${opts.validBefore} is empty or out of range`);
  }
  if (opts.principals.some((p) => p === '')) throw bad('empty principal');
  const keyReader = new SshReader(opts.publicKey, { what: 'public key to certify' });
  const keyType = keyReader.text('key type');
  wireToPublicKey(opts.publicKey); // refuses certificates and unsupported or malformed keys
  const signedData = new SshWriter()
    .string(certAlgorithmFor(keyType))
    .string(randomBytes(32))
    .raw(keyReader.rest())
    .uint64(opts.serial ?? 0n)
    .uint32(CERT_TYPE_CODE[opts.type])
    .string(opts.keyId)
    .string(opts.principals.reduce((w, p) => w.string(p), new SshWriter()).toBuffer())
    .uint64(opts.validAfter)
    .uint64(opts.validBefore)
    .string(encodeOptions(opts.criticalOptions))
    .string(encodeOptions(opts.extensions))
    .string('') // reserved
    .string(publicKeyToWire(opts.caPrivateKey))
    .toBuffer();
  return Buffer.concat([signedData, new SshWriter().string(sshSign(opts.caPrivateKey, signedData)).toBuffer()]);
}

export function parseCertificate(blob: Buffer): SshCertificate {
  const r: SshReader = new SshReader(blob, { code: ErrorCode.CERT_INVALID, what: 'SSH certificate' });
  const certKeyType = r.text('key type');
  const baseType = baseAlgorithmOf(certKeyType);
  if (!baseType) r.fail(`"${certKeyType.slice(0, 60)}" is not a certificate key type`);
  const fields = publicKeyFieldCount(baseType);
  if (fields === undefined) r.fail(`unsupported certificate key type "${certKeyType}"`);
  const nonce = r.string('nonce');
  const keyFields = new SshWriter().string(baseType);
  for (let i = 0; i < fields; i++) keyFields.string(r.string('public key field'));
  const publicKey = keyFields.toBuffer();
  const serial = r.uint64('serial');
  const typeCode = r.uint32('certificate type');
  const type = typeCode === 1 ? 'user' : typeCode === 2 ? 'host' : r.fail(`unknown certificate type ${typeCode}`);
  const keyId = r.text('key id');
  const pr = new SshReader(r.string('principals'), { code: ErrorCode.CERT_INVALID, what: 'certificate principals' });
  const principals: string[] = [];
  while (pr.remaining > 0) principals.push(pr.text('principal'));
  const validAfter = r.uint64('valid after');
  const validBefore = r.uint64('valid before');
  const criticalOptions = decodeOptions(r.string('critical options'), 'certificate critical option');
  const extensions = decodeOptions(r.string('extensions'), 'certificate extension');
  r.string('reserved');
  const signatureKey = r.string('signature key');
  const signedData = blob.subarray(0, r.offset);
  const signature = r.string('signature');
  r.end();
  for (const [what, b] of [
    ['certified key', publicKey],
    ['CA key', signatureKey],
  ] as const) {
    try {
      wireToPublicKey(b);
    } catch (e) {
      r.fail(`${what}: ${isGatehouseError(e) ? e.message : String(e)}`);
    }
  }
  return {
    certKeyType,
    publicKey,
    nonce,
    serial,
    type,
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    extensions,
    signatureKey,
    signature,
    blob,
    signedData,
  };
}

/** Parses an "...-cert-v01@openssh.com AAAA... comment" line (a *-cert.pub file). */
export function parseCertificateLine(line: string): SshCertificate {
  let blob: Buffer;
  try {
    blob = parseAuthorizedKey(line);
  } catch (e) {
    throw new GatehouseError(ErrorCode.CERT_INVALID, `not an OpenSSH certificate line: ${(e as Error).message}`);
  }
  return parseCertificate(blob);
}

export function formatCertificateLine(blob: Buffer, comment?: string): string {
  return formatAuthorizedKey(blob, comment);
}

export interface VerifyCertificateOptions {
  /** Wire blobs of the CA public keys this verifier trusts for `type`. */
  trustedCAs: Buffer[];
  type: SshCertType;
  /** The login (user certs) or host name (host certs) being asked for. */
  principal?: string;
  now?: Date;
  /** Critical options the caller enforces (e.g. "force-command"); any other one fails. Default none. */
  allowedCriticalOptions?: string[];
}

/** ISO time of an epoch-seconds value, or "never" for the "forever" sentinel and beyond year 9999. */
export function certTime(seconds: bigint): string {
  return seconds > 253402300799n ? 'never' : new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

export function verifyCertificate(cert: SshCertificate, opts: VerifyCertificateOptions): CertVerifyResult {
  const fail = (failure: Exclude<CertVerifyResult, { ok: true }>['failure'], reason: string): CertVerifyResult => ({
    ok: false,
    failure,
    reason,
  });
  if (!baseAlgorithmOf(cert.certKeyType))
    return fail('not-a-certificate', `"${cert.certKeyType}" is not a certificate`);
  if (cert.type !== opts.type) {
    return fail('wrong-type', `this is a ${cert.type} certificate where a ${opts.type} certificate is needed`);
  }
  if (!opts.trustedCAs.some((ca) => ca.equals(cert.signatureKey))) {
    return fail(
      'untrusted-ca',
      `certificate is not signed by this cluster's ${opts.type} CA (it was signed by ${fingerprintSha256(cert.signatureKey)}); log in again to this cluster`,
    );
  }
  if (!verifySshSignature(cert.signatureKey, cert.signedData, cert.signature)) {
    return fail(
      'bad-signature',
      'certificate signature is invalid (the certificate was altered or damaged); log in again',
    );
  }
  const now = BigInt(Math.floor((opts.now ?? new Date()).getTime() / 1000));
  if (now + CLOCK_SKEW_SECONDS < cert.validAfter) {
    return fail(
      'not-yet-valid',
      `certificate is not valid before ${certTime(cert.validAfter)} (this machine's clock says ${certTime(now)}); check the clocks`,
    );
  }
  if (now >= cert.validBefore) {
    return fail('expired', `certificate expired at ${certTime(cert.validBefore)}; log in again`);
  }
  if (opts.principal !== undefined) {
    const what = opts.type === 'user' ? 'login' : 'host name';
    // Like OpenSSH: a user certificate without principals allows nothing; a host certificate without
    // principals is valid for any host name.
    if (cert.principals.length === 0 && opts.type === 'user') {
      return fail(
        'principal-not-allowed',
        `certificate lists no principals, so it allows no ${what} ("${opts.principal}" asked for)`,
      );
    }
    if (cert.principals.length > 0 && !cert.principals.includes(opts.principal)) {
      return fail(
        'principal-not-allowed',
        `${what} "${opts.principal}" is not among the certificate's principals (${cert.principals.join(', ')})`,
      );
    }
  }
  const allowed = new Set(opts.allowedCriticalOptions ?? []);
  const unsupported = Object.keys(cert.criticalOptions).filter((n) => !allowed.has(n));
  if (unsupported.length > 0) {
    return fail(
      'unsupported-critical-option',
      `certificate carries critical option(s) ${unsupported.map((n) => `"${n}"`).join(', ')} that this server cannot enforce; ask for a certificate without them`,
    );
  }
  return { ok: true, cert };
}

/** Parse + verify in one step; garbage becomes a 'not-a-certificate' result rather than a throw. */
export function verifyCertificateBlob(blob: Buffer, opts: VerifyCertificateOptions): CertVerifyResult {
  let cert: SshCertificate;
  try {
    cert = parseCertificate(blob);
  } catch (e) {
    return { ok: false, failure: 'not-a-certificate', reason: isGatehouseError(e) ? e.message : String(e) };
  }
  return verifyCertificate(cert, opts);
}
