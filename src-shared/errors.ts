// Stable error codes that cross every boundary: gRPC/Connect details, IPC, CLI exit codes.
// Codes are part of the product's contract: add new ones, never rename or reuse.
export const ErrorCode = {
  INTERNAL: 'INTERNAL',
  BAD_REQUEST: 'BAD_REQUEST',
  INVALID_RESOURCE: 'INVALID_RESOURCE',
  UNKNOWN_KIND: 'UNKNOWN_KIND',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  CONFLICT: 'CONFLICT',
  ACCESS_DENIED: 'ACCESS_DENIED',
  BAD_CREDENTIALS: 'BAD_CREDENTIALS',
  RATE_LIMITED: 'RATE_LIMITED',
  NOT_LOGGED_IN: 'NOT_LOGGED_IN',
  CERT_EXPIRED: 'CERT_EXPIRED',
  CERT_INVALID: 'CERT_INVALID',
  NODE_NOT_FOUND: 'NODE_NOT_FOUND',
  NODE_UNREACHABLE: 'NODE_UNREACHABLE',
  PROXY_UNREACHABLE: 'PROXY_UNREACHABLE',
  PROXY_UNTRUSTED: 'PROXY_UNTRUSTED',
  STORAGE: 'STORAGE',
  CONFIG: 'CONFIG',
  /** A request (body or one of its fields) is over a documented size limit; nothing was processed. */
  REQUEST_TOO_LARGE: 'REQUEST_TOO_LARGE',
  /** A device's TPM evidence (AK, quote, credential activation) did not check out. */
  DEVICE_ATTESTATION_FAILED: 'DEVICE_ATTESTATION_FAILED',
  /** No enrolled device holds this credential (never enrolled, unenrolled, or another device's key). */
  DEVICE_NOT_ENROLLED: 'DEVICE_NOT_ENROLLED',
  /**
   * Access needs a trusted device and this session's certificates carry no device fields (the
   * node's "unauthorized device" refusal, recognised by the client).
   */
  DEVICE_UNTRUSTED: 'DEVICE_UNTRUSTED',
  /** No TPM at the configured TCTI (no device, swtpm not running, transport failure). */
  TPM_UNAVAILABLE: 'TPM_UNAVAILABLE',
  /** The TPM device exists but this user may not open it (tss group / udev rules). */
  TPM_PERMISSION_DENIED: 'TPM_PERMISSION_DENIED',
  /** A stored TPM key blob does not belong to this TPM (TPM_RC_BINDING, TPM_RC_INTEGRITY, ...). */
  TPM_BINDING: 'TPM_BINDING',
  /** The TPM is in dictionary-attack lockout or busy; retry later. */
  TPM_LOCKOUT: 'TPM_LOCKOUT',
  /** Any other TPM failure; details carry the TSS2 return code and its text. */
  TPM_ERROR: 'TPM_ERROR',
  /** TPM device trust is not available in this build or on this OS (addon missing/unsupported). */
  TPM_NOT_SUPPORTED: 'TPM_NOT_SUPPORTED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Response header in which the cluster API puts the ErrorCode of a failed call (clients rebuild the GatehouseError from it). */
export const ERROR_CODE_HEADER = 'gatehouse-error-code';

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

/** CLI exit codes per error code, so scripts can branch without parsing text. */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.BAD_REQUEST:
    case ErrorCode.INVALID_RESOURCE:
    case ErrorCode.UNKNOWN_KIND:
    case ErrorCode.CONFIG:
    case ErrorCode.REQUEST_TOO_LARGE:
      return 2;
    case ErrorCode.NOT_FOUND:
    case ErrorCode.NODE_NOT_FOUND:
      return 3;
    case ErrorCode.ACCESS_DENIED:
    case ErrorCode.BAD_CREDENTIALS:
    case ErrorCode.RATE_LIMITED:
    case ErrorCode.NOT_LOGGED_IN:
    case ErrorCode.CERT_EXPIRED:
    case ErrorCode.CERT_INVALID:
    case ErrorCode.DEVICE_ATTESTATION_FAILED:
    case ErrorCode.DEVICE_NOT_ENROLLED:
    case ErrorCode.DEVICE_UNTRUSTED:
      return 4;
    case ErrorCode.NODE_UNREACHABLE:
    case ErrorCode.PROXY_UNREACHABLE:
    case ErrorCode.PROXY_UNTRUSTED:
      return 5;
    case ErrorCode.ALREADY_EXISTS:
    case ErrorCode.CONFLICT:
      return 6;
    case ErrorCode.TPM_UNAVAILABLE:
    case ErrorCode.TPM_PERMISSION_DENIED:
    case ErrorCode.TPM_BINDING:
    case ErrorCode.TPM_LOCKOUT:
    case ErrorCode.TPM_ERROR:
    case ErrorCode.TPM_NOT_SUPPORTED:
      return 7;
    case ErrorCode.INTERNAL:
    case ErrorCode.STORAGE:
      return 1;
  }
}
