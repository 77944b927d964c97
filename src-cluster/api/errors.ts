// GatehouseError ⇄ ConnectError. The stable code travels in a response header so clients
// rebuild the same GatehouseError they would have got in-process.
import { Code, ConnectError } from '@connectrpc/connect';
import { ERROR_CODE_HEADER, ErrorCode, GatehouseError, type ErrorCode as ErrorCodeT } from '../../src-shared/errors.ts';

export { ERROR_CODE_HEADER };

function connectCodeFor(code: ErrorCodeT): Code {
  switch (code) {
    case ErrorCode.BAD_REQUEST:
    case ErrorCode.INVALID_RESOURCE:
    case ErrorCode.UNKNOWN_KIND:
    case ErrorCode.CONFIG:
      return Code.InvalidArgument;
    case ErrorCode.NOT_FOUND:
    case ErrorCode.NODE_NOT_FOUND:
      return Code.NotFound;
    case ErrorCode.ALREADY_EXISTS:
      return Code.AlreadyExists;
    case ErrorCode.CONFLICT:
      return Code.Aborted;
    case ErrorCode.ACCESS_DENIED:
    case ErrorCode.DEVICE_ATTESTATION_FAILED:
    case ErrorCode.DEVICE_NOT_ENROLLED:
    case ErrorCode.DEVICE_UNTRUSTED:
      return Code.PermissionDenied;
    case ErrorCode.BAD_CREDENTIALS:
    case ErrorCode.NOT_LOGGED_IN:
    case ErrorCode.CERT_EXPIRED:
    case ErrorCode.CERT_INVALID:
      return Code.Unauthenticated;
    case ErrorCode.RATE_LIMITED:
    case ErrorCode.REQUEST_TOO_LARGE:
      return Code.ResourceExhausted;
    case ErrorCode.NODE_UNREACHABLE:
    case ErrorCode.PROXY_UNREACHABLE:
    case ErrorCode.PROXY_UNTRUSTED:
      return Code.Unavailable;
    case ErrorCode.INTERNAL:
    case ErrorCode.STORAGE:
      return Code.Internal;
    // Client-side TPM failures; they only cross the API when a client reports them.
    case ErrorCode.TPM_UNAVAILABLE:
    case ErrorCode.TPM_LOCKOUT:
      return Code.Unavailable;
    case ErrorCode.TPM_PERMISSION_DENIED:
      return Code.PermissionDenied;
    case ErrorCode.TPM_BINDING:
      return Code.FailedPrecondition;
    case ErrorCode.TPM_NOT_SUPPORTED:
      return Code.Unimplemented;
    case ErrorCode.TPM_ERROR:
      return Code.Internal;
  }
}

export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  const err =
    e instanceof GatehouseError
      ? e
      : new GatehouseError(ErrorCode.INTERNAL, `internal error: ${(e as Error)?.message ?? String(e)}`);
  return new ConnectError(err.message, connectCodeFor(err.code), { [ERROR_CODE_HEADER]: err.code });
}

const known = new Set<string>(Object.values(ErrorCode));

/** Client side: back to a GatehouseError; transport failures keep Connect's words. */
export function fromConnectError(e: unknown): GatehouseError {
  if (e instanceof GatehouseError) return e;
  if (e instanceof ConnectError) {
    const code = e.metadata.get(ERROR_CODE_HEADER);
    if (code && known.has(code)) return new GatehouseError(code as ErrorCodeT, e.rawMessage);
    if (e.code === Code.Unavailable) return new GatehouseError(ErrorCode.PROXY_UNREACHABLE, e.rawMessage);
    return new GatehouseError(ErrorCode.INTERNAL, e.rawMessage);
  }
  return new GatehouseError(ErrorCode.INTERNAL, (e as Error)?.message ?? String(e));
}
