// The identity of a user certificate a proxy forwarded to a service behind it (the db service,
// the app service) or an app service to SignAppToken: verified here again against the user CA and
// its validity rather than taken on the forwarder's word. Here, below both services, because
// services of one layer share nothing.
import { X509Certificate } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { DerMemo } from './der-memo.ts';
import { issuedByOneOf } from './host-identity.ts';
import { identityFromClientCert, type TlsIdentity } from './x509.ts';

/** A user certificate PEM is a few KiB; anything far larger is not one (SignAppToken takes it as is). */
export const MAX_USER_CERT_PEM_CHARS = 16 << 10;

/** The identity of the forwarded user certificate, verified against the user CA and its validity. */
export function forwardedUserIdentity(
  pem: string,
  userCaPems: readonly string[],
  now: number,
  /** Parsed identities by certificate DER, for a caller that sees the same certificate often. */
  identities?: DerMemo<TlsIdentity>,
): TlsIdentity {
  if (pem.length > MAX_USER_CERT_PEM_CHARS) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `forwarded user certificate is longer than ${MAX_USER_CERT_PEM_CHARS} characters`,
    );
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `forwarded user certificate does not parse: ${(e as Error).message}`,
    );
  }
  if (!issuedByOneOf(cert, userCaPems)) {
    throw new GatehouseError(
      ErrorCode.CERT_INVALID,
      'the user certificate was not issued by this cluster; run "gate login" again',
    );
  }
  if (now < Date.parse(cert.validFrom) || now >= Date.parse(cert.validTo)) {
    throw new GatehouseError(ErrorCode.CERT_EXPIRED, 'your certificate has expired; run "gate login" again');
  }
  return identities ? identities.get(cert.raw) : identityFromClientCert(cert.raw);
}
