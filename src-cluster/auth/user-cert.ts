// A user certificate another service forwarded (the proxy to a db or app service, an app
// service to SignAppToken): its identity is read only after it verifies against the user CA and
// is valid now, so nothing of the forwarded text is taken on the forwarder's word.
import { X509Certificate } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { DerMemo } from './der-memo.ts';
import { issuedByOneOf } from './host-identity.ts';
import { identityFromClientCert, type TlsIdentity } from './x509.ts';

/** A user certificate PEM is a few KiB; anything far larger is not one. */
export const MAX_USER_CERT_PEM_CHARS = 16 << 10;

/** A forwarded user certificate's identity: issued by the user CA and valid now, else refused. */
export function verifiedUserCertificate(
  pem: string,
  userCaPems: readonly string[],
  now: number,
  /** Parsed identities by certificate DER, for a caller that sees the same certificate often. */
  identities?: DerMemo<TlsIdentity>,
): TlsIdentity {
  if (pem.length > MAX_USER_CERT_PEM_CHARS) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `user_cert_pem is longer than ${MAX_USER_CERT_PEM_CHARS} characters`,
    );
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `user_cert_pem does not parse: ${(e as Error).message}`);
  }
  if (!issuedByOneOf(cert, userCaPems)) {
    throw new GatehouseError(ErrorCode.CERT_INVALID, 'the user certificate was not issued by this cluster');
  }
  if (now < Date.parse(cert.validFrom) || now >= Date.parse(cert.validTo)) {
    throw new GatehouseError(ErrorCode.CERT_EXPIRED, 'the user certificate has expired; log in again');
  }
  return identities ? identities.get(cert.raw) : identityFromClientCert(cert.raw);
}
