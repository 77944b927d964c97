// EK certificate checks for enrollment. The EK public key the server encrypts MakeCredential to must
// be the key the manufacturer certified; when the cluster lists EK CAs (ekcert_allowed_cas) the
// certificate must chain to one of them. The result names the attestation type recorded on the
// device: ekcert (a certificate, no CA list to check it against) or ekcert_trusted.
import { X509Certificate } from 'node:crypto';
import { attestationError } from './errors.ts';
import { publicKeyObject, type TpmPublic } from './public.ts';

export interface EkCertCheckInput {
  /** The EK certificate, DER (as read from NV index 0x01c00002 / 0x01c0000a). */
  ekCertDer: Buffer;
  /** The EK public area the client sent; must hold the certificate's key. */
  ekPublic: TpmPublic;
  /** PEM certificates of the CAs the cluster trusts for EK certs; empty or absent = no CA check. */
  allowedCas?: string[];
  /** Intermediate CA certificates (PEM) the client or config supplies to complete the chain. */
  intermediates?: string[];
  /** For tests; default now. */
  now?: Date;
}

export interface EkCertCheck {
  attestationType: 'ekcert' | 'ekcert_trusted';
  /** Hex serial number, recorded on the device credential. */
  serial: string;
  certificate: X509Certificate;
}

function parseCert(data: string | Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(data);
  } catch (e) {
    throw attestationError('malformed', `${what} is not a valid X.509 certificate: ${(e as Error).message}`);
  }
}

function validAt(cert: X509Certificate, now: Date): boolean {
  return new Date(cert.validFrom) <= now && now <= new Date(cert.validTo);
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

export function checkEkCertificate(input: EkCertCheckInput): EkCertCheck {
  const cert = parseCert(input.ekCertDer, 'the EK certificate');
  const certKey = cert.publicKey.export({ format: 'der', type: 'spki' });
  const ekKey = publicKeyObject(input.ekPublic).export({ format: 'der', type: 'spki' });
  if (!certKey.equals(ekKey)) {
    throw attestationError('ek_mismatch', "the EK public key is not the key in the device's EK certificate");
  }
  const serial = cert.serialNumber.toLowerCase();
  const allowed = (input.allowedCas ?? []).map((pem, i) => parseCert(pem, `allowed EK CA #${i + 1}`));
  if (allowed.length === 0) return { attestationType: 'ekcert', serial, certificate: cert };

  checkEkCertChain(cert, allowed, input.intermediates ?? [], input.now ?? new Date());
  return { attestationType: 'ekcert_trusted', serial, certificate: cert };
}

/**
 * Throws untrusted_ek_cert unless `cert` is valid now and chains to one of `allowedCas` (parsed
 * certificates or PEM), possibly through the given intermediates. Used at enrollment and again
 * at every authentication, against the CA list in force then.
 */
export function checkEkCertChain(
  cert: X509Certificate,
  allowedCas: (X509Certificate | string)[],
  intermediatePems: string[],
  now: Date,
): void {
  const allowed = allowedCas.map((ca, i) => (typeof ca === 'string' ? parseCert(ca, `allowed EK CA #${i + 1}`) : ca));
  if (!validAt(cert, now)) {
    throw attestationError(
      'untrusted_ek_cert',
      `the EK certificate is not valid now (${cert.validFrom} – ${cert.validTo})`,
    );
  }
  const intermediates = intermediatePems.map((pem, i) => parseCert(pem, `EK intermediate CA #${i + 1}`));
  // Walk up from the EK cert: stop at a configured CA; otherwise step through a CA-flagged,
  // currently valid intermediate. The depth limit stops loops between cross-signed intermediates.
  let current = cert;
  for (let depth = 0; depth < 5; depth++) {
    if (allowed.some((ca) => issuedBy(current, ca))) return;
    const next = intermediates.find((ca) => ca.ca && validAt(ca, now) && issuedBy(current, ca));
    if (!next) break;
    current = next;
  }
  throw attestationError(
    'untrusted_ek_cert',
    `the EK certificate (issuer "${cert.issuer.replace(/\n/g, ', ')}") does not chain to an allowed EK CA`,
  );
}
