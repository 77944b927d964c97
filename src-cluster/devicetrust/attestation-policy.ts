// The cluster's device attestation policy, as one decision used at enrollment, at every device
// authentication (so a policy tightened later applies to devices enrolled under the old one) and
// by `gatectl devices ls` (which flags devices that no longer qualify). The evidence itself (AK,
// creation, ActivateCredential, quote) is checked by the ceremonies; this decides whether the
// kind of evidence a device has is enough:
//
// - ekcert_allowed_cas set: the device's EK certificate must chain to one of those CAs now.
// - a device bound by an admin to its TPM (`gatectl devices add --ek-key-hash`): only the TPM
//   with that EK qualifies, and an admin-vouched EK counts as trusted even when ekpub_allowed is
//   false (the admin checked the key on the machine itself).
// - otherwise the EK is vouched for by nothing but itself (attestation ekpub, or an EK
//   certificate no allowed CA checked, which anyone can make): allowed only with ekpub_allowed.
//   A machine with no TPM can play that part in software, hence the start-up warning below.
import { X509Certificate } from 'node:crypto';
import type { DeviceTrustSpec } from '../resources/cluster-auth-preference.ts';
import type { DeviceCredential } from '../resources/device.ts';
import { checkEkCertChain } from './tpm/ek-certificate.ts';
import type { AttestationFailure } from './tpm/errors.ts';

export interface AttestationPolicy {
  ekpubAllowed: boolean;
  /** PEM; empty = no EK certificate CA check. */
  ekCertAllowedCas: string[];
}

export function policyOf(
  deviceTrust: Pick<DeviceTrustSpec, 'ekpub_allowed' | 'ekcert_allowed_cas'>,
): AttestationPolicy {
  return { ekpubAllowed: deviceTrust.ekpub_allowed, ekCertAllowedCas: [...deviceTrust.ekcert_allowed_cas] };
}

export interface PolicyFailure {
  reason: Extract<
    AttestationFailure,
    'ekpub_not_allowed' | 'ek_key_mismatch' | 'ekcert_required' | 'untrusted_ek_cert'
  >;
  /** A sentence for the user and the audit log. */
  message: string;
  /** A few words for `gatectl devices ls`: "enrolled (fails policy: SHORT)". */
  short: string;
}

export interface PolicySubject {
  credential: DeviceCredential;
  /** The device's admin binding (spec.ek_key_hash), if any. */
  boundEkKeyHash?: string | undefined;
}

function ekCertFailure(credential: DeviceCredential, cas: string[], now: Date): PolicyFailure | undefined {
  if (!credential.ek_cert) {
    // An ekcert device enrolled before certificates were kept on the record cannot be re-checked.
    const why =
      credential.attestation_type === 'ekpub'
        ? 'and this device enrolled without one'
        : 'and this device was enrolled before its EK certificate was kept on record; enroll it again';
    return {
      reason: 'ekcert_required',
      short: 'ekcert required',
      message: `this cluster only accepts TPMs with an EK certificate from its allowed CAs (ekcert_allowed_cas), ${why}`,
    };
  }
  try {
    checkEkCertChain(new X509Certificate(Buffer.from(credential.ek_cert, 'base64')), cas, [], now);
    return undefined;
  } catch (e) {
    return {
      reason: 'untrusted_ek_cert',
      short: 'ekcert untrusted',
      message: `this cluster only accepts TPMs with an EK certificate from its allowed CAs (ekcert_allowed_cas): ${(e as Error).message}`,
    };
  }
}

/** Why this credential does not qualify under `policy`, or undefined when it does. */
export function policyFailure(
  subject: PolicySubject,
  policy: AttestationPolicy,
  now: Date = new Date(),
): PolicyFailure | undefined {
  const { credential, boundEkKeyHash } = subject;
  if (boundEkKeyHash && credential.ek_key_hash !== boundEkKeyHash) {
    return {
      reason: 'ek_key_mismatch',
      short: 'ek key mismatch',
      message:
        `this device is bound to the TPM whose EK key hash is ${boundEkKeyHash} (gatectl devices add --ek-key-hash), ` +
        `and this TPM's is ${credential.ek_key_hash ?? 'unknown (enrolled before the binding; enroll again)'}`,
    };
  }
  if (policy.ekCertAllowedCas.length > 0) return ekCertFailure(credential, policy.ekCertAllowedCas, now);
  if (boundEkKeyHash || policy.ekpubAllowed) return undefined;
  return {
    reason: 'ekpub_not_allowed',
    short: 'ekpub not allowed',
    message:
      'this cluster does not accept TPMs vouched for only by their EK public key (device_trust.ekpub_allowed: false); ' +
      'the device needs an EK certificate from an allowed CA (ekcert_allowed_cas) or an administrator binding it ' +
      'to its TPM (gatectl devices add --ek-key-hash)',
  };
}

/**
 * The one-sentence risk warning for `gatectl status` and the daemon's start-up log, or undefined:
 * device trust is required while a machine with no TPM can still enroll with software keys.
 */
export function ekpubRiskWarning(
  deviceTrust: Pick<DeviceTrustSpec, 'mode' | 'ekpub_allowed' | 'ekcert_allowed_cas'>,
): string | undefined {
  if (!deviceTrust.mode.startsWith('required')) return undefined;
  if (!deviceTrust.ekpub_allowed || deviceTrust.ekcert_allowed_cas.length > 0) return undefined;
  return (
    `device trust mode is ${deviceTrust.mode} while EK-public-only enrollment is allowed, so a machine with no TPM ` +
    'can enroll with software keys and pass as a trusted device ' +
    '(set cluster_auth_preference device_trust.ekpub_allowed: false or ekcert_allowed_cas, ' +
    'or bind each device to its TPM with gatectl devices add --ek-key-hash)'
  );
}
