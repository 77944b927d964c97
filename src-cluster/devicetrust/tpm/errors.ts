// Every TPM check failure carries a machine-readable reason in details.reason, so the enrollment
// and authentication ceremonies (and tests) can tell a tampered quote from a wrong nonce without
// matching message text.
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';

export type AttestationFailure =
  | 'malformed'
  | 'unsupported_algorithm'
  | 'bad_signature'
  | 'wrong_attestation_type'
  | 'nonce_mismatch'
  | 'pcr_mismatch'
  | 'ak_properties'
  | 'creation_mismatch'
  | 'ek_mismatch'
  | 'untrusted_ek_cert'
  | 'credential_mismatch'
  | 'wrong_secret'
  // Policy (attestation-policy.ts): the evidence is genuine but the cluster does not accept it.
  | 'ekpub_not_allowed'
  | 'ek_key_mismatch'
  | 'ekcert_required';

export function attestationError(
  reason: AttestationFailure,
  message: string,
  details: Record<string, unknown> = {},
): GatehouseError {
  return new GatehouseError(ErrorCode.DEVICE_ATTESTATION_FAILED, message, { reason, ...details });
}
