// Every stable ErrorCode in words a person can act on: what happened and what to do next.
// The switch is exhaustive (tsc fails on a new code until it is described here). Main's own
// message is shown as the detail where it names something specific (a node, a login, a reason).
import type { IpcError } from '../../src-main/ipc/contract.ts';
import { ErrorCode } from '../../src-shared/errors.ts';

export interface ErrorText {
  /** One sentence: what happened. */
  message: string;
  /** One sentence: what to do about it. */
  nextStep: string;
  /** Main's wording when it adds something the message doesn't say; shown smaller. */
  detail?: string;
  /** The right follow-up is to log in again (expired or missing session). */
  relogin?: boolean;
  /** An access decision: the authorizer's reason plus why/how-to-fix. */
  denial?: { reason: string; why: string; fix: string };
}

/** What the renderer knows about the situation, for messages that name it. */
export interface ErrorContext {
  proxy?: string;
}

const stringDetail = (error: IpcError, key: string): string | undefined => {
  const v = error.details?.[key];
  return typeof v === 'string' && v ? v : undefined;
};

const sentence = (s: string): string => {
  const t = s.trim();
  if (!t) return t;
  const capital = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
};

/**
 * The authorizer's reason out of main's message. SSH refusals arrive as
 * `ssh: rejected: administratively prohibited (<reason>)`; API denials carry the reason as is.
 */
export function denialReason(message: string): string {
  const m = /administratively prohibited \((.*)\)\s*$/s.exec(message);
  return sentence((m ? m[1]! : message.replace(/^ssh: (rejected: )?/, '')) || 'The cluster refused this request');
}

export function describeError(error: IpcError, context: ErrorContext = {}): ErrorText {
  const detail = error.message ? sentence(error.message) : undefined;
  const code = error.code;
  switch (code) {
    case ErrorCode.INTERNAL:
      if (error.details?.disconnected === true) {
        return {
          message: 'Lost connection to the app.',
          nextStep: 'Start Gatehouse again and open the link it prints; open sessions were closed.',
        };
      }
      return {
        message: 'Something went wrong inside Gatehouse.',
        nextStep: 'Try again. If it keeps happening, restart the app and tell your administrator.',
        detail,
      };
    case ErrorCode.BAD_REQUEST:
      return {
        message: 'Gatehouse could not use what was entered.',
        nextStep: 'Check the fields and try again.',
        detail,
      };
    case ErrorCode.INVALID_RESOURCE:
    case ErrorCode.UNKNOWN_KIND:
      return {
        message: 'The cluster rejected a resource definition.',
        nextStep: 'Ask your cluster administrator to check the cluster configuration.',
        detail,
      };
    case ErrorCode.NOT_FOUND:
      return { message: 'That no longer exists.', nextStep: 'Refresh and try again.', detail };
    case ErrorCode.ALREADY_EXISTS:
      return {
        message: 'That already exists.',
        nextStep: 'Pick the existing one instead (clusters are in the cluster menu).',
        detail,
      };
    case ErrorCode.CONFLICT:
      return { message: 'It changed while you were working on it.', nextStep: 'Refresh and try again.', detail };
    case ErrorCode.ACCESS_DENIED: {
      const reason = denialReason(error.message);
      if (/lock targeting \w+:".*" is in force/.test(error.message)) {
        // An administrator's lock: nothing the user can change; only an administrator lifts it.
        return {
          message: `Access denied: ${reason}`,
          nextStep: 'Contact your administrator.',
          denial: {
            reason,
            why:
              'An administrator has locked this user, role, login, server or device. A lock stops new ' +
              'connections and logins at once and ends open sessions.',
            fix: 'Contact your administrator: only they can lift the lock, or wait until it expires.',
          },
        };
      }
      return {
        message: `Access denied: ${reason}`,
        nextStep: 'Ask your cluster administrator for access.',
        denial: {
          reason,
          why:
            'Every connection is checked against your roles (which servers, which logins) when you connect. ' +
            'The cluster decided this one is not allowed.',
          fix:
            'Pick another login if the server offers one. Otherwise ask your administrator to grant a role that ' +
            'allows this server and login, then log out and in again so your session picks up the change.',
        },
      };
    }
    case ErrorCode.BAD_CREDENTIALS:
      return { message: 'Wrong user name, password or one-time code.', nextStep: 'Check them and try again.' };
    case ErrorCode.RATE_LIMITED:
      if (/ is locked; /.test(error.message)) {
        // The cluster's account lockout: it lasts (30 minutes by default), so "a minute" would mislead.
        return {
          message: 'This account is locked after too many failed login attempts.',
          nextStep: 'Try again when the lock expires, or ask your administrator to lift it.',
          detail,
        };
      }
      return {
        message: 'Too many attempts in a short time.',
        nextStep: 'Wait a minute, then try again.',
      };
    case ErrorCode.REQUEST_TOO_LARGE:
      return {
        message: 'The request was larger than the cluster accepts.',
        nextStep: 'Shorten what you entered and try again; the detail below names the limit.',
        detail,
      };
    case ErrorCode.NOT_LOGGED_IN:
      return {
        message: 'You are not logged in to this cluster.',
        nextStep: 'Log in to continue.',
        relogin: true,
      };
    case ErrorCode.CERT_EXPIRED:
      return { message: 'Your session expired.', nextStep: 'Log in again to continue.', relogin: true };
    case ErrorCode.CERT_INVALID:
      return {
        message: 'A certificate could not be verified.',
        nextStep: 'Log in again; if that does not help, tell your administrator what the detail below says.',
        detail,
      };
    case ErrorCode.NODE_NOT_FOUND:
      return {
        message: 'That server is no longer in the cluster.',
        nextStep: 'Refresh the server list and pick another one.',
        detail,
      };
    case ErrorCode.NODE_UNREACHABLE:
      return {
        message: "Can't reach the server.",
        nextStep: 'It may be offline or restarting. Try again in a moment, or ask your administrator.',
        detail,
      };
    case ErrorCode.PROXY_UNREACHABLE: {
      const proxy = stringDetail(error, 'proxy') ?? context.proxy;
      return {
        message: proxy ? `Can't reach the proxy at ${proxy}.` : "Can't reach the proxy.",
        nextStep: 'Check the address and that the cluster is running.',
        detail,
      };
    }
    case ErrorCode.PROXY_UNTRUSTED: {
      const proxy = stringDetail(error, 'proxy') ?? context.proxy;
      return {
        message: proxy
          ? `The proxy at ${proxy} is not the one this app trusted before.`
          : 'The proxy is not the one this app trusted before.',
        nextStep:
          "Don't continue unless your administrator changed the cluster's certificate authority; " +
          'if they did, remove the cluster (cluster menu, "Remove cluster") and add it again.',
        detail,
      };
    }
    case ErrorCode.STORAGE:
      return {
        message: 'Gatehouse could not read or write its data.',
        nextStep: 'Check free disk space and the permissions of the app data folder, then try again.',
        detail,
      };
    case ErrorCode.CONFIG:
      return {
        message: 'The configuration is not valid.',
        nextStep: 'Fix the setting named below and restart the app.',
        detail,
      };
    case ErrorCode.DEVICE_ATTESTATION_FAILED:
      return {
        message: "This device's TPM could not prove it is the trusted device.",
        nextStep:
          'Try again; if it keeps failing, ask your administrator to re-enroll this device (its TPM key may have changed).',
        detail,
      };
    case ErrorCode.DEVICE_NOT_ENROLLED:
      return {
        message: 'This device is not enrolled in the cluster.',
        nextStep:
          'Ask your administrator for an enroll token, then enroll this device ("gate device enroll", which asks for the token).',
        detail,
      };
    case ErrorCode.DEVICE_UNTRUSTED:
      return {
        message: `Access denied: ${denialReason(error.message)}`,
        nextStep: 'Connect from a trusted device: enroll this one, then log out and log in again.',
        denial: {
          reason: denialReason(error.message),
          why:
            'This server only accepts sessions from a trusted device, and this session was not started on one: ' +
            'its certificates carry no device identity, because this device is not enrolled in the cluster or ' +
            'proving it with its TPM at login failed (the device indicator in the top bar says which).',
          fix:
            'Ask your administrator to register this device and give you an enroll token, run ' +
            '"gate device enroll" (it asks for the token) on this computer, then log out and log in again.',
        },
      };
    case ErrorCode.TPM_UNAVAILABLE:
      return {
        message: "This computer's TPM could not be reached.",
        nextStep: 'Check that the machine has a TPM 2.0 enabled in its firmware settings, then try again.',
        detail,
      };
    case ErrorCode.TPM_PERMISSION_DENIED:
      return {
        message: 'Failed to open the TPM device.',
        nextStep: 'Add your user to the `tss` group (then log in again) or install udev rules for /dev/tpmrm0.',
        detail,
      };
    case ErrorCode.TPM_BINDING:
      return {
        message: "The stored device key does not belong to this computer's TPM.",
        nextStep: 'Re-enroll this device; Gatehouse creates a new key for it.',
        detail,
      };
    case ErrorCode.TPM_LOCKOUT:
      return {
        message: 'The TPM is locked out or busy.',
        nextStep: 'Wait a few minutes and try again; if it stays locked, ask your administrator.',
        detail,
      };
    case ErrorCode.TPM_ERROR:
      return {
        message: 'The TPM reported an error.',
        nextStep: 'Try again; if it keeps failing, send the detail below to your administrator.',
        detail,
      };
    case ErrorCode.TPM_NOT_SUPPORTED:
      return {
        message: 'Device trust with a TPM is not available in this build or on this system.',
        nextStep: 'Ask your administrator for a Gatehouse build with TPM support for this system.',
        detail,
      };
    default: {
      const unhandled: never = code;
      return {
        message: 'Something went wrong.',
        nextStep: 'Try again.',
        detail: `${String(unhandled)}: ${error.message}`,
      };
    }
  }
}
