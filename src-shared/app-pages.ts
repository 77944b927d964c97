// The page a person sees when an app request is refused (docs/app-access.md "Errors people see").
// One renderer for both places a refusal can be answered: the local gateway (a refusal reply line
// from the proxy or the app service at connection start) and the app service (a request refused
// later on a kept-alive connection, e.g. a lock arrived). Browsers get a small HTML page, curl and
// other clients a text/plain body with the same words.
import { errorCodeInfo, type ErrorCode } from './errors.ts';

/** The exact words of an untrusted-device refusal (REFERENCE.md: the seed's message for apps). */
export const APP_UNTRUSTED_DEVICE_MESSAGE = 'access to this app requires a trusted device';
/** The exact words that start a role denial. */
export const APP_ACCESS_DENIED_MESSAGE = 'access to app denied';

export const APP_UNTRUSTED_DEVICE_REMEDY =
  'Register and enroll this device: ask your administrator to register it and give you an enroll token, ' +
  'enroll it ("gate device enroll" or the desktop app\'s Device page), then log in again ("gate login") and reload this page.';

export interface AppDenialResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function statusFor(code: ErrorCode): number {
  switch (code) {
    case 'ACCESS_DENIED':
    case 'DEVICE_UNTRUSTED':
    case 'DEVICE_NOT_ENROLLED':
      return 403;
    case 'NOT_LOGGED_IN':
    case 'CERT_EXPIRED':
    case 'CERT_INVALID':
      return 401;
    case 'APP_NOT_FOUND':
    case 'NOT_FOUND':
      return 404;
    case 'BAD_REQUEST':
      return 400;
    case 'REQUEST_TOO_LARGE':
      return 413;
    case 'RATE_LIMITED':
      return 429;
    case 'APP_UNREACHABLE':
      return 502;
    default:
      return 500;
  }
}

function remedyFor(code: ErrorCode): string {
  return code === 'DEVICE_UNTRUSTED' ? APP_UNTRUSTED_DEVICE_REMEDY : errorCodeInfo(code).nextStep;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /\btext\/html\b/i.test(accept);
}

/**
 * The response for a refused request: `message` is the refusal's own words (the reply line's
 * message, e.g. "access to this app requires a trusted device" or a lock's message), `accept`
 * the request's Accept header. The body names the code so helpdesk staff can look it up.
 */
export function appDenialResponse(code: ErrorCode, message: string, accept?: string): AppDenialResponse {
  const status = statusFor(code);
  const remedy = remedyFor(code);
  const common = { 'cache-control': 'no-store', 'x-gatehouse-error-code': code, connection: 'close' };
  if (!wantsHtml(accept)) {
    return {
      status,
      headers: { ...common, 'content-type': 'text/plain; charset=utf-8' },
      body: `${message}\n\n${remedy}\n(Gatehouse error ${code})\n`,
    };
  }
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gatehouse: access refused</title>
<style>body{font:16px system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}
h1{font-size:1.3em}p.code{color:#666;font-size:.85em}</style></head>
<body><h1>${escapeHtml(message)}</h1>
<p>${escapeHtml(remedy)}</p>
<p class="code">Gatehouse error ${code}</p></body></html>
`;
  return {
    status,
    headers: {
      ...common,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    },
    body,
  };
}
