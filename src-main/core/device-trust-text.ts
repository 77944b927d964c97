// How device trust went for a login and what people read about it: the next step after a failed
// device authentication, by its stable code, and the one line `gate login` and the app show.
// Apart from device-trust.ts so that file stays about the ceremonies.
import { ErrorCode, type ErrorCode as ErrorCodeT } from '../../src-shared/errors.ts';
import type { CeremonyTimings } from '../device/ceremony/stream-steps.ts';
import type { Profile } from './profiles.ts';

/** How device trust went for a login. */
export type DeviceTrustResult =
  | { state: 'trusted'; device: NonNullable<Profile['device']>; timings: CeremonyTimings }
  /** No local enrollment record for this cluster: nothing was tried. */
  | { state: 'not-enrolled-here'; cluster: string }
  /** The cluster's device trust mode is `off`: device authentication is not run at all. */
  | { state: 'off'; cluster: string }
  | { state: 'failed'; code: ErrorCodeT; message: string; nextStep: string };

/** What to do after a failed device authentication, by code. */
export function deviceTrustNextStep(code: ErrorCodeT): string {
  switch (code) {
    case ErrorCode.DEVICE_NOT_ENROLLED:
      return 'ask your administrator for an enroll token, run "gate device enroll" (it asks for the token): this login becomes device-trusted at once';
    case ErrorCode.DEVICE_ATTESTATION_FAILED:
      return 'the cluster did not accept this TPM\'s evidence; ask your administrator to check the device ("gatectl devices ls") and enroll it again';
    case ErrorCode.TPM_PERMISSION_DENIED:
    case ErrorCode.TPM_UNAVAILABLE:
    case ErrorCode.TPM_BINDING:
    case ErrorCode.TPM_LOCKOUT:
    case ErrorCode.TPM_ERROR:
    case ErrorCode.TPM_NOT_SUPPORTED:
      return 'fix the TPM problem above (check with "gate device keyget"), then log in again';
    case ErrorCode.ACCESS_DENIED:
      return 'ask your administrator (a lock or policy refuses this device)';
    case ErrorCode.CERT_EXPIRED:
    case ErrorCode.CERT_INVALID:
    case ErrorCode.NOT_LOGGED_IN:
      return 'log in again';
    default:
      return 'log in again; if this keeps happening, tell your administrator';
  }
}

/** One line for people: `this session is device-trusted (device "TAG"/linux)` or why not. */
export function deviceTrustText(r: DeviceTrustResult): string {
  switch (r.state) {
    case 'trusted':
      return `this session is device-trusted (device "${r.device.assetTag}"${r.device.osType ? `/${r.device.osType}` : ''})`;
    case 'not-enrolled-here':
      return `not device-trusted: this device is not enrolled in cluster "${r.cluster}"`;
    case 'off':
      return `not device-trusted: cluster "${r.cluster}" does not use device trust`;
    case 'failed':
      return `not device-trusted: ${r.message} [${r.code}]`;
  }
}
