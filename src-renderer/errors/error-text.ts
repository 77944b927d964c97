// Every stable ErrorCode in words a person can act on: what happened and what to do next. The
// words come from the one error table (src-shared/errors.ts ERROR_TABLE), which the renderer may
// import (src-shared is pure and has no imports; the lint rules allow it, unlike src-main), so a
// new code cannot reach the UI without text. Only the cases that need the situation (the proxy's
// address, the authorizer's reason, a lock, a lost connection) are worded here. Main's own message
// is shown as the detail where the table says it names something specific.
import type { IpcError } from '../../src-main/ipc/contract.ts';
import {
  APP_ACCESS_DENIED_MESSAGE,
  APP_UNTRUSTED_DEVICE_MESSAGE,
  APP_UNTRUSTED_DEVICE_REMEDY,
} from '../../src-shared/app-pages.ts';
import { ErrorCode, errorCodeInfo, isErrorCode } from '../../src-shared/errors.ts';
import { deviceErrorText } from './device-error-text.ts';
import type { ErrorText } from './error-text-shape.ts';

export type { ErrorText } from './error-text-shape.ts';

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

/** The table's words for a code, with main's message as detail where the table says so. */
function tableText(error: IpcError): ErrorText {
  // The main process (or a cluster) may be newer than this renderer and send a code it has no row for.
  if (!isErrorCode(error.code)) {
    return {
      message: 'Something went wrong.',
      nextStep: 'Try again.',
      detail: `${String(error.code)}: ${error.message}`,
    };
  }
  const info = errorCodeInfo(error.code);
  const text: ErrorText = { message: info.text, nextStep: info.nextStep };
  if (info.showDetail && error.message) text.detail = sentence(error.message);
  if (info.relogin) text.relogin = true;
  return text;
}

function accessDenied(error: IpcError): ErrorText {
  const reason = denialReason(error.message);
  const nextStep = errorCodeInfo(ErrorCode.ACCESS_DENIED).nextStep;
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
  if (error.message.startsWith(APP_ACCESS_DENIED_MESSAGE)) {
    // The app service's refusal: no role allows this app, or one denies it (app_labels).
    return {
      message: `Access denied: ${reason}`,
      nextStep,
      denial: {
        reason,
        why:
          'Every connection to an app is checked against your roles (which apps, by their labels) when it opens ' +
          'and again for every request. The cluster decided this app is not allowed for you.',
        fix:
          'Ask your administrator for a role that allows this app, then log out and in again so your session ' +
          'picks up the change, and launch the app again.',
      },
    };
  }
  if (/access to db denied/i.test(error.message)) {
    // The db service's refusal of a db user / db name the roles do not allow.
    return {
      message: `Access denied: ${reason}`,
      nextStep,
      denial: {
        reason,
        why:
          'Every database connection is checked against your roles (which databases, which database users and ' +
          'names) when your client connects. The cluster decided this one is not allowed.',
        fix:
          'Close this gateway and connect again with a database user and name your roles allow (the Connect dialog ' +
          'lists them). Otherwise ask your administrator for a role that allows them, then log out and in again.',
      },
    };
  }
  return {
    message: `Access denied: ${reason}`,
    nextStep,
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

function deviceUntrusted(error: IpcError): ErrorText {
  const reason = denialReason(error.message);
  if (error.message.includes(APP_UNTRUSTED_DEVICE_MESSAGE)) {
    // An app's role requires a trusted device (device_trust_mode): the app's own remedy, the
    // same words as the page the browser got.
    return {
      message: `Access denied: ${reason}`,
      nextStep: errorCodeInfo(ErrorCode.DEVICE_UNTRUSTED).nextStep,
      denial: {
        reason,
        why:
          'A role that allows this app requires a trusted device, and this session was not started on one: its ' +
          'certificates carry no device identity (the device indicator in the top bar says why).',
        fix: APP_UNTRUSTED_DEVICE_REMEDY,
      },
    };
  }
  return {
    message: `Access denied: ${reason}`,
    nextStep: errorCodeInfo(ErrorCode.DEVICE_UNTRUSTED).nextStep,
    denial: {
      reason,
      why:
        'This server only accepts sessions from a trusted device, and this session was not started on one: ' +
        'its certificates carry no device identity, because this device is not enrolled in the cluster or ' +
        'proving it with its TPM at login failed (the device indicator in the top bar says which).',
      fix:
        'Open This device and enroll it with the enroll token your administrator gives you (or with ' +
        '"Enroll this device" when auto-enroll is on): the session becomes trusted without a new login. ' +
        'From a terminal: run "gate device enroll" (it asks for the token) on this computer, then log out and log in again.',
    },
  };
}

export function describeError(error: IpcError, context: ErrorContext = {}): ErrorText {
  const proxy = stringDetail(error, 'proxy') ?? context.proxy;
  const device = isErrorCode(error.code) ? deviceErrorText(error) : undefined;
  if (device) return device;
  switch (error.code) {
    case ErrorCode.INTERNAL:
      if (error.details?.disconnected !== true) return tableText(error);
      return {
        message: 'Lost connection to the app.',
        nextStep: 'Start Gatehouse again and open the link it prints; open sessions were closed.',
      };
    case ErrorCode.ACCESS_DENIED:
      return accessDenied(error);
    case ErrorCode.DEVICE_UNTRUSTED:
      // The app enrolls and re-authenticates in place, so the way out is the This device screen.
      return {
        ...deviceUntrusted(error),
        nextStep: 'Open This device to enroll it: this session becomes trusted without logging in again.',
        openThisDevice: true,
      };
    case ErrorCode.RATE_LIMITED:
      if (!/ is locked; /.test(error.message)) return tableText(error);
      // The cluster's account lockout: it lasts (30 minutes by default), so "a minute" would mislead.
      return {
        message: 'This account is locked after too many failed login attempts.',
        nextStep: 'Try again when the lock expires, or ask your administrator to lift it.',
        detail: sentence(error.message),
      };
    case ErrorCode.CONFLICT:
      // A gateway's local port taken by another program: say which, and that any other will do.
      if (typeof error.details?.port !== 'number') return tableText(error);
      return {
        message: `Local port ${error.details.port} is already in use.`,
        nextStep: 'Choose another port.',
      };
    case ErrorCode.NOT_FOUND: {
      // Run on a gateway whose database client is not installed on this computer.
      const programs = error.details?.programs;
      const program = Array.isArray(programs) ? programs.map(String).join(' or ') : stringDetail(error, 'program');
      const packageName = stringDetail(error, 'package');
      if (!program || !packageName) return tableText(error);
      return {
        message: `${program} is not installed on this computer.`,
        nextStep: `Install the ${packageName} package, then try again; or copy the command into a terminal that has it.`,
      };
    }
    case ErrorCode.PROXY_UNREACHABLE:
      return { ...tableText(error), ...(proxy ? { message: `Can't reach the proxy at ${proxy}.` } : {}) };
    case ErrorCode.PROXY_UNTRUSTED:
      return {
        ...tableText(error),
        ...(proxy ? { message: `The proxy at ${proxy} is not the one this app trusted before.` } : {}),
      };
    default:
      return tableText(error);
  }
}
