// GatehouseError ⇄ ConnectError. The stable code travels in a response header so clients
// rebuild the same GatehouseError they would have got in-process.
import { Code, ConnectError } from '@connectrpc/connect';
import {
  ERROR_CODE_HEADER,
  ERROR_REASON_HEADER,
  detailsFromReasonHeader,
  errorReasonOf,
  ErrorCode,
  GatehouseError,
  errorCodeInfo,
  isErrorCode,
  type ErrorCode as ErrorCodeT,
} from '../../src-shared/errors.ts';

export { ERROR_CODE_HEADER };

/** The Connect status of a code, from the one error table (src-shared/errors.ts ERROR_TABLE). */
export function connectCodeFor(code: ErrorCodeT): Code {
  return Code[errorCodeInfo(code).connect];
}

export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  const err =
    e instanceof GatehouseError
      ? e
      : new GatehouseError(ErrorCode.INTERNAL, `internal error: ${(e as Error)?.message ?? String(e)}`);
  const reason = errorReasonOf(err.details);
  return new ConnectError(err.message, connectCodeFor(err.code), {
    [ERROR_CODE_HEADER]: err.code,
    ...(reason ? { [ERROR_REASON_HEADER]: reason } : {}),
  });
}

/** Client side: back to a GatehouseError; transport failures keep Connect's words. */
export function fromConnectError(e: unknown): GatehouseError {
  if (e instanceof GatehouseError) return e;
  if (e instanceof ConnectError) {
    const code = e.metadata.get(ERROR_CODE_HEADER);
    if (isErrorCode(code)) {
      return new GatehouseError(code, e.rawMessage, detailsFromReasonHeader(e.metadata.get(ERROR_REASON_HEADER)));
    }
    if (e.code === Code.Unavailable) return new GatehouseError(ErrorCode.PROXY_UNREACHABLE, e.rawMessage);
    return new GatehouseError(ErrorCode.INTERNAL, e.rawMessage);
  }
  return new GatehouseError(ErrorCode.INTERNAL, (e as Error)?.message ?? String(e));
}
