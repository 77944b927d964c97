// Device-trust failures in words: enroll token refusals (expired, used, unknown, made for another
// device), auto-enroll refusals, every TPM code, attestation failures, and administrator locks.
// The cluster and main say which case it is in `details.reason` (or `details.lock`); the words
// and the next step live here so the "This device" screen, the login form and a terminal tab
// say the same thing. Kept apart from error-text.ts, which calls in here first.
import type { IpcError } from '../../src-main/ipc/contract.ts';
import { ErrorCode, errorCodeInfo } from '../../src-shared/errors.ts';
import type { ErrorText } from './error-text-shape.ts';

/** A lock in force, as main reports it on a terminal it cut (terminals.exit error.details.lock). */
export interface LockInfo {
  message: string;
  target: string;
}

const NEW_TOKEN = 'Ask your administrator or helpdesk for a new enroll token, then enter it on the This device screen.';

const stringDetail = (error: IpcError, key: string): string | undefined => {
  const v = error.details?.[key];
  return typeof v === 'string' && v ? v : undefined;
};

/** `details.lock` when it has the shape main sends; anything else is ignored. */
export function lockOf(error: IpcError): LockInfo | undefined {
  const lock = error.details?.lock;
  if (typeof lock !== 'object' || lock === null) return undefined;
  const { message, target } = lock as Record<string, unknown>;
  if (typeof target !== 'string' || !target) return undefined;
  return { message: typeof message === 'string' ? message : '', target };
}

/** The lock's words: "Locked by your administrator: <message>" (or without a message, just that). */
export function lockText(lock: LockInfo): ErrorText {
  const said = lock.message.trim();
  return {
    message: said ? `Locked by your administrator: ${said}` : 'Locked by your administrator.',
    nextStep: 'Contact your administrator: only they can lift the lock, or wait until it expires.',
    detail: `Lock target: ${lock.target}`,
    lock: { message: said, target: lock.target },
  };
}

function tokenRefusal(reason: string | undefined): ErrorText | undefined {
  switch (reason) {
    case 'expired':
      return { message: 'This enroll token has expired.', nextStep: NEW_TOKEN };
    case 'used':
      return { message: 'This enroll token was already used.', nextStep: NEW_TOKEN };
    case 'unknown':
      return {
        message: 'The cluster does not know this enroll token.',
        nextStep: 'Check that you copied the whole token, without spaces; otherwise ask for a new one.',
      };
    default:
      return undefined;
  }
}

function enrollDenial(error: IpcError, reason: string | undefined): ErrorText | undefined {
  const assetTag = stringDetail(error, 'assetTag');
  const detail = error.message ? error.message : undefined;
  switch (reason) {
    case 'asset_tag_mismatch':
      return {
        message: 'This enroll token was made for another device.',
        nextStep: `Ask your administrator for a token for this device${assetTag ? ` (asset tag ${assetTag})` : ''}.`,
        ...(detail ? { detail } : {}),
      };
    case 'auto_enroll_off':
      return {
        message: 'Auto-enroll is off in this cluster.',
        nextStep: 'Ask your administrator for an enroll token and enter it in the Enroll token box.',
      };
    case 'not_registered':
      return {
        message: 'This device is not registered in the cluster.',
        nextStep: 'Send your administrator the command shown on the This device screen; once they ran it, try again.',
        ...(detail ? { detail } : {}),
      };
    case 'already_enrolled':
      return {
        message: 'This device is already enrolled in the cluster.',
        nextStep:
          'Refresh the This device screen; if it says the credential does not match this TPM, ask your administrator to re-enroll it.',
      };
    default:
      return undefined;
  }
}

/** The TPM codes, with the probe's concrete reason and fix (details.reason / details.fix) when main sent them. */
function tpmText(error: IpcError): ErrorText | undefined {
  if (!error.code.startsWith('TPM_')) return undefined;
  const info = errorCodeInfo(error.code);
  const fix = stringDetail(error, 'fix');
  const why = stringDetail(error, 'reason');
  const nextStep =
    fix ??
    (error.code === ErrorCode.TPM_PERMISSION_DENIED
      ? 'Add yourself to the tss group (sudo usermod -aG tss $USER, then log out and in), or install the tpm2-tss udev rule.'
      : info.nextStep);
  const detail = why ?? (error.message || undefined);
  return { message: info.text, nextStep, ...(detail ? { detail } : {}) };
}

/** Words for a device-trust case, or undefined to fall back to the general wording. */
export function deviceErrorText(error: IpcError): ErrorText | undefined {
  const lock = lockOf(error);
  if (lock) return lockText(lock);
  const reason = stringDetail(error, 'reason');
  switch (error.code) {
    case ErrorCode.BAD_CREDENTIALS:
      return tokenRefusal(reason);
    case ErrorCode.ACCESS_DENIED:
      // A lock named only in the message (a login refused) keeps error-text's lock wording.
      return enrollDenial(error, reason);
    case ErrorCode.DEVICE_ATTESTATION_FAILED:
      return {
        message: errorCodeInfo(error.code).text,
        nextStep: errorCodeInfo(error.code).nextStep,
        ...(error.message ? { detail: error.message } : {}),
      };
    default:
      return tpmText(error);
  }
}
