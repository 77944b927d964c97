// Stable error codes that cross every boundary: gRPC/Connect details, IPC, CLI exit codes, and
// the words the app shows for them — all from one table (ERROR_TABLE).
/** The Connect (gRPC) status names the cluster API answers with; values of @connectrpc/connect's `Code`. */
export type ConnectCodeName =
  | 'InvalidArgument'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Aborted'
  | 'PermissionDenied'
  | 'Unauthenticated'
  | 'ResourceExhausted'
  | 'FailedPrecondition'
  | 'Unavailable'
  | 'Unimplemented'
  | 'Internal';

/** Everything each boundary needs to know about one error code. */
export interface ErrorCodeInfo {
  /** CLI exit code (gatehouse, gatectl, gate), so scripts can branch without parsing text. */
  readonly exit: 1 | 2 | 3 | 4 | 5 | 6 | 7;
  /** Status of a failed cluster API call (the code itself travels in ERROR_CODE_HEADER). */
  readonly connect: ConnectCodeName;
  /** What happened, in one sentence a person can act on (the app's default wording). */
  readonly text: string;
  /** What to do about it, in one sentence. */
  readonly nextStep: string;
  /** The error's own message names something specific (a node, a setting, a limit): show it as detail. */
  readonly showDetail: boolean;
  /** The right follow-up is to log in again (expired or missing session). */
  readonly relogin: boolean;
}

/**
 * THE table of error codes: the list of codes and, per code, its exit code, Connect status and
 * default user text. The CLIs (exitCodeFor), the cluster API (src-cluster/api/errors.ts) and the
 * renderer (src-renderer/errors/error-text.ts) all read it, so a new code is one entry here and
 * tsc refuses an entry with a column missing. Codes are part of the product's contract: add new
 * ones, never rename or reuse. No imports: the renderer bundles this file.
 */
export const ERROR_TABLE = {
  INTERNAL: {
    exit: 1,
    connect: 'Internal',
    text: 'Something went wrong inside Gatehouse.',
    nextStep: 'Try again. If it keeps happening, restart the app and tell your administrator.',
    showDetail: true,
    relogin: false,
  },
  BAD_REQUEST: {
    exit: 2,
    connect: 'InvalidArgument',
    text: 'Gatehouse could not use what was entered.',
    nextStep: 'Check the fields and try again.',
    showDetail: true,
    relogin: false,
  },
  INVALID_RESOURCE: {
    exit: 2,
    connect: 'InvalidArgument',
    text: 'The cluster rejected a resource definition.',
    nextStep: 'Ask your cluster administrator to check the cluster configuration.',
    showDetail: true,
    relogin: false,
  },
  UNKNOWN_KIND: {
    exit: 2,
    connect: 'InvalidArgument',
    text: 'The cluster rejected a resource definition.',
    nextStep: 'Ask your cluster administrator to check the cluster configuration.',
    showDetail: true,
    relogin: false,
  },
  NOT_FOUND: {
    exit: 3,
    connect: 'NotFound',
    text: 'That no longer exists.',
    nextStep: 'Refresh and try again.',
    showDetail: true,
    relogin: false,
  },
  ALREADY_EXISTS: {
    exit: 6,
    connect: 'AlreadyExists',
    text: 'That already exists.',
    nextStep: 'Pick the existing one instead (clusters are in the cluster menu).',
    showDetail: true,
    relogin: false,
  },
  CONFLICT: {
    exit: 6,
    connect: 'Aborted',
    text: 'It changed while you were working on it.',
    nextStep: 'Refresh and try again.',
    showDetail: true,
    relogin: false,
  },
  ACCESS_DENIED: {
    exit: 4,
    connect: 'PermissionDenied',
    text: 'Access denied.',
    nextStep: 'Ask your cluster administrator for access.',
    showDetail: false,
    relogin: false,
  },
  BAD_CREDENTIALS: {
    exit: 4,
    connect: 'Unauthenticated',
    text: 'Wrong user name, password or one-time code.',
    nextStep: 'Check them and try again.',
    showDetail: false,
    relogin: false,
  },
  RATE_LIMITED: {
    exit: 4,
    connect: 'ResourceExhausted',
    text: 'Too many attempts in a short time.',
    nextStep: 'Wait a minute, then try again.',
    showDetail: false,
    relogin: false,
  },
  NOT_LOGGED_IN: {
    exit: 4,
    connect: 'Unauthenticated',
    text: 'You are not logged in to this cluster.',
    nextStep: 'Log in to continue.',
    showDetail: false,
    relogin: true,
  },
  CERT_EXPIRED: {
    exit: 4,
    connect: 'Unauthenticated',
    text: 'Your session expired.',
    nextStep: 'Log in again to continue.',
    showDetail: false,
    relogin: true,
  },
  CERT_INVALID: {
    exit: 4,
    connect: 'Unauthenticated',
    text: 'A certificate could not be verified.',
    nextStep: 'Log in again; if that does not help, tell your administrator what the detail below says.',
    showDetail: true,
    relogin: false,
  },
  NODE_NOT_FOUND: {
    exit: 3,
    connect: 'NotFound',
    text: 'That server is no longer in the cluster.',
    nextStep: 'Refresh the server list and pick another one.',
    showDetail: true,
    relogin: false,
  },
  NODE_UNREACHABLE: {
    exit: 5,
    connect: 'Unavailable',
    text: "Can't reach the server.",
    nextStep: 'It may be offline or restarting. Try again in a moment, or ask your administrator.',
    showDetail: true,
    relogin: false,
  },
  DB_NOT_FOUND: {
    exit: 3,
    connect: 'NotFound',
    text: 'That database is no longer in the cluster.',
    nextStep: 'Refresh the resource list and pick another one.',
    showDetail: true,
    relogin: false,
  },
  DB_UNREACHABLE: {
    exit: 5,
    connect: 'Unavailable',
    text: "Can't reach the database.",
    nextStep:
      'The database or its db service may be offline, or its certificate is not the one the cluster expects. Try again, or ask your administrator.',
    showDetail: true,
    relogin: false,
  },
  APP_NOT_FOUND: {
    exit: 3,
    connect: 'NotFound',
    text: 'That app is no longer in the cluster.',
    nextStep: 'Refresh the resource list and pick another one.',
    showDetail: true,
    relogin: false,
  },
  APP_UNREACHABLE: {
    exit: 5,
    connect: 'Unavailable',
    text: "Can't reach the app.",
    nextStep: 'The app or its app service may be offline. Try again in a moment, or ask your administrator.',
    showDetail: true,
    relogin: false,
  },
  PROXY_UNREACHABLE: {
    exit: 5,
    connect: 'Unavailable',
    text: "Can't reach the proxy.",
    nextStep: 'Check the address and that the cluster is running.',
    showDetail: true,
    relogin: false,
  },
  PROXY_UNTRUSTED: {
    exit: 5,
    connect: 'Unavailable',
    text: 'The proxy is not the one this app trusted before.',
    nextStep:
      "Don't continue unless your administrator changed the cluster's certificate authority; " +
      'if they did, remove the cluster (cluster menu, "Remove cluster") and add it again.',
    showDetail: true,
    relogin: false,
  },
  STORAGE: {
    exit: 1,
    connect: 'Internal',
    text: 'Gatehouse could not read or write its data.',
    nextStep: 'Check free disk space and the permissions of the app data folder, then try again.',
    showDetail: true,
    relogin: false,
  },
  CONFIG: {
    exit: 2,
    connect: 'InvalidArgument',
    text: 'The configuration is not valid.',
    nextStep: 'Fix the setting named below and restart the app.',
    showDetail: true,
    relogin: false,
  },
  /** A request (body or one of its fields) is over a documented size limit; nothing was processed. */
  REQUEST_TOO_LARGE: {
    exit: 2,
    connect: 'ResourceExhausted',
    text: 'The request was larger than the cluster accepts.',
    nextStep: 'Shorten what you entered and try again; the detail below names the limit.',
    showDetail: true,
    relogin: false,
  },
  /** A device's TPM evidence (AK, quote, credential activation) did not check out. */
  DEVICE_ATTESTATION_FAILED: {
    exit: 4,
    connect: 'PermissionDenied',
    text: "This device's TPM could not prove it is the trusted device.",
    nextStep:
      'Try again; if it keeps failing, ask your administrator to re-enroll this device (its TPM key may have changed).',
    showDetail: true,
    relogin: false,
  },
  /** No enrolled device holds this credential (never enrolled, unenrolled, or another device's key). */
  DEVICE_NOT_ENROLLED: {
    exit: 4,
    connect: 'PermissionDenied',
    text: 'This device is not enrolled in the cluster.',
    nextStep:
      'Ask your administrator for an enroll token, then enroll this device ("gate device enroll", which asks for the token).',
    showDetail: true,
    relogin: false,
  },
  /**
   * Access needs a trusted device and this session's certificates carry no device fields (the
   * node's "unauthorized device" refusal, recognised by the client).
   */
  DEVICE_UNTRUSTED: {
    exit: 4,
    connect: 'PermissionDenied',
    text: 'Access denied: this session was not started on a trusted device.',
    nextStep: 'Connect from a trusted device: enroll this one, then log out and log in again.',
    showDetail: false,
    relogin: false,
  },
  // Client-side TPM failures: they only cross the API when a client reports them.
  /** No TPM at the configured TCTI (no device, swtpm not running, transport failure). */
  TPM_UNAVAILABLE: {
    exit: 7,
    connect: 'Unavailable',
    text: "This computer's TPM could not be reached.",
    nextStep: 'Check that the machine has a TPM 2.0 enabled in its firmware settings, then try again.',
    showDetail: true,
    relogin: false,
  },
  /** The TPM device exists but this user may not open it (tss group / udev rules). */
  TPM_PERMISSION_DENIED: {
    exit: 7,
    connect: 'PermissionDenied',
    text: 'Failed to open the TPM device.',
    nextStep: 'Add your user to the `tss` group (then log in again) or install udev rules for /dev/tpmrm0.',
    showDetail: true,
    relogin: false,
  },
  /** A stored TPM key blob does not belong to this TPM (TPM_RC_BINDING, TPM_RC_INTEGRITY, ...). */
  TPM_BINDING: {
    exit: 7,
    connect: 'FailedPrecondition',
    text: "The stored device key does not belong to this computer's TPM.",
    nextStep: 'Re-enroll this device; Gatehouse creates a new key for it.',
    showDetail: true,
    relogin: false,
  },
  /** The TPM is in dictionary-attack lockout or busy; retry later. */
  TPM_LOCKOUT: {
    exit: 7,
    connect: 'Unavailable',
    text: 'The TPM is locked out or busy.',
    nextStep: 'Wait a few minutes and try again; if it stays locked, ask your administrator.',
    showDetail: true,
    relogin: false,
  },
  /** Any other TPM failure; details carry the TSS2 return code and its text. */
  TPM_ERROR: {
    exit: 7,
    connect: 'Internal',
    text: 'The TPM reported an error.',
    nextStep: 'Try again; if it keeps failing, send the detail below to your administrator.',
    showDetail: true,
    relogin: false,
  },
  /** TPM device trust is not available in this build or on this OS (addon missing/unsupported). */
  TPM_NOT_SUPPORTED: {
    exit: 7,
    connect: 'Unimplemented',
    text: 'Device trust with a TPM is not available in this build or on this system.',
    nextStep: 'Ask your administrator for a Gatehouse build with TPM support for this system.',
    showDetail: true,
    relogin: false,
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_TABLE;

/** The codes as constants (`ErrorCode.NOT_FOUND === 'NOT_FOUND'`), derived from the table. */
export const ErrorCode: { readonly [C in ErrorCode]: C } = Object.freeze(
  Object.fromEntries(Object.keys(ERROR_TABLE).map((c) => [c, c])) as { [C in ErrorCode]: C },
);

/** The table row of a code; `satisfies Record<ErrorCode, ErrorCodeInfo>` keeps every column filled. */
export function errorCodeInfo(code: ErrorCode): ErrorCodeInfo {
  return (ERROR_TABLE satisfies Record<ErrorCode, ErrorCodeInfo>)[code];
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_TABLE, value);
}

/** Response header in which the cluster API puts the ErrorCode of a failed call (clients rebuild the GatehouseError from it). */
export const ERROR_CODE_HEADER = 'gatehouse-error-code';
/**
 * Response header with a failed call's `details.reason` (e.g. auto_enroll_off, expired,
 * asset_tag_mismatch), so clients word refusals that share a code; only short snake_case words.
 */
export const ERROR_REASON_HEADER = 'gatehouse-error-reason';
const ERROR_REASON = /^[a-z][a-z0-9_]{0,63}$/;

/** The reason of a failed call as ERROR_REASON_HEADER carries it; undefined when absent or not a plain word. */
export function errorReasonOf(details: Record<string, unknown> | undefined): string | undefined {
  const reason = details?.['reason'];
  return typeof reason === 'string' && ERROR_REASON.test(reason) ? reason : undefined;
}

/** A received ERROR_REASON_HEADER as details ({reason}), or undefined. */
export function detailsFromReasonHeader(value: string | null | undefined): { reason: string } | undefined {
  return value && ERROR_REASON.test(value) ? { reason: value } : undefined;
}

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'GatehouseError';
    this.code = code;
    this.details = details;
  }
}

export function isGatehouseError(e: unknown): e is GatehouseError {
  return e instanceof GatehouseError;
}

/** CLI exit code of an error code (ERROR_TABLE), so scripts can branch without parsing text. */
export function exitCodeFor(code: ErrorCode): number {
  return errorCodeInfo(code).exit;
}
