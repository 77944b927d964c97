// Decides one SSH "publickey" authentication attempt: only an OpenSSH user certificate from a
// trusted CA, valid now, naming the requested login, and (when the client signed) a signature
// made by the certified key. Everything else is refused with a reason for the log.
import { BlockList, isIP } from 'node:net';
import { parseCertificate, verifyCertificate, verifySshSignature } from '../../src-shared/sshcert/index.ts';
import type { SshCertificate } from '../../src-shared/sshcert/types.ts';

const CERT_SUFFIX = '-cert-v01@openssh.com';

/** Critical options this node understands and enforces; any other one refuses the cert. */
export const SUPPORTED_CRITICAL_OPTIONS = ['force-command', 'source-address'] as const;

export interface PublicKeyAttempt {
  login: string;
  /** The algorithm name the client sent, e.g. "ssh-ed25519-cert-v01@openssh.com". */
  keyAlgo: string;
  keyBlob: Buffer;
  clientAddress: string;
  /** Absent in the "would you accept this key?" query step. */
  signature?: Buffer;
  /** The bytes the client signed (session id + request); present with `signature`. */
  signedData?: Buffer;
}

export type CertAuthResult = { ok: true; cert: SshCertificate } | { ok: false; reason: string; cert?: SshCertificate };

export function checkCertificateLogin(
  attempt: PublicKeyAttempt,
  trustedCAs: Buffer[],
  now: Date = new Date(),
): CertAuthResult {
  if (!attempt.keyAlgo.endsWith(CERT_SUFFIX)) {
    return {
      ok: false,
      reason: `plain public key (${attempt.keyAlgo}) refused: this node only accepts Gatehouse user certificates`,
    };
  }
  let cert: SshCertificate;
  try {
    cert = parseCertificate(attempt.keyBlob);
  } catch (err) {
    return { ok: false, reason: `malformed certificate: ${(err as Error).message}` };
  }
  if (certTypeForAlgo(attempt.keyAlgo) !== cert.certKeyType) {
    return {
      ok: false,
      cert,
      reason: `key algorithm ${attempt.keyAlgo} does not match certificate type ${cert.certKeyType}`,
    };
  }
  if (trustedCAs.length === 0) {
    return { ok: false, cert, reason: 'no trusted user CA is configured on this node' };
  }
  const verdict = verifyCertificate(cert, {
    trustedCAs,
    type: 'user',
    principal: attempt.login,
    now,
    allowedCriticalOptions: [...SUPPORTED_CRITICAL_OPTIONS],
  });
  if (!verdict.ok) return { ok: false, cert, reason: verdict.reason };

  const sourceAddress = cert.criticalOptions['source-address'];
  if (sourceAddress !== undefined) {
    const refusal = checkSourceAddress(sourceAddress, attempt.clientAddress);
    if (refusal) return { ok: false, cert, reason: refusal };
  }

  if (attempt.signature === undefined) return { ok: true, cert };
  if (attempt.signedData === undefined) {
    return { ok: false, cert, reason: 'signature without signed data' };
  }
  const sigAlgo = signatureAlgorithm(attempt.signature);
  if (sigAlgo === undefined) {
    return { ok: false, cert, reason: 'malformed signature (not an SSH signature blob)' };
  }
  const expected = attempt.keyAlgo.slice(0, -CERT_SUFFIX.length);
  if (sigAlgo !== expected) {
    return {
      ok: false,
      cert,
      reason: `signature algorithm ${sigAlgo} does not match key algorithm ${attempt.keyAlgo}`,
    };
  }
  let good = false;
  try {
    good = verifySshSignature(cert.publicKey, attempt.signedData, attempt.signature);
  } catch {
    good = false;
  }
  if (!good) return { ok: false, cert, reason: 'signature by the certified key does not verify' };
  return { ok: true, cert };
}

/** rsa-sha2-256/512 name an RSA key with a stronger hash; the certificate itself stays ssh-rsa. */
function certTypeForAlgo(keyAlgo: string): string {
  if (keyAlgo === `rsa-sha2-256${CERT_SUFFIX}` || keyAlgo === `rsa-sha2-512${CERT_SUFFIX}`) {
    return `ssh-rsa${CERT_SUFFIX}`;
  }
  return keyAlgo;
}

/** The algorithm name inside an SSH signature blob (string name, string bytes), if it is one. */
export function signatureAlgorithm(sig: Buffer): string | undefined {
  if (sig.length < 8) return undefined;
  const nameLen = sig.readUInt32BE(0);
  if (nameLen === 0 || 4 + nameLen + 4 > sig.length) return undefined;
  const bodyLen = sig.readUInt32BE(4 + nameLen);
  if (4 + nameLen + 4 + bodyLen !== sig.length) return undefined;
  return sig.subarray(4, 4 + nameLen).toString('latin1');
}

/** Enforces the `source-address` critical option (comma-separated CIDRs or addresses). */
export function checkSourceAddress(option: string, clientAddress: string): string | undefined {
  const address =
    clientAddress.startsWith('::ffff:') && isIP(clientAddress.slice(7)) === 4 ? clientAddress.slice(7) : clientAddress;
  const family = isIP(address);
  if (family === 0) return `client address "${clientAddress}" is not an IP address`;
  const allowed = new BlockList();
  for (const raw of option.split(',')) {
    const entry = raw.trim();
    const [net, bits] = entry.split('/');
    const netFamily = net ? isIP(net) : 0;
    const prefix = bits === undefined ? undefined : Number(bits);
    const maxBits = netFamily === 4 ? 32 : 128;
    if (
      !net ||
      netFamily === 0 ||
      (bits !== undefined && (!/^\d+$/.test(bits) || prefix! > maxBits)) ||
      entry.split('/').length > 2
    ) {
      return `certificate source-address "${option}" is malformed`;
    }
    const type = netFamily === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) allowed.addAddress(net, type);
    else allowed.addSubnet(net, prefix, type);
  }
  return allowed.check(address, family === 4 ? 'ipv4' : 'ipv6')
    ? undefined
    : `client address ${address} is not in the certificate's source-address list (${option})`;
}
