// The one place where failures of cluster API calls become GatehouseErrors. The server sends its
// stable code in a response header; transport failures are classified here so users read
// "cannot reach the proxy at host:port" or "CA changed" instead of an HTTP/2 stack trace.
import { Code, ConnectError } from '@connectrpc/connect';
import {
  ERROR_CODE_HEADER,
  ERROR_REASON_HEADER,
  detailsFromReasonHeader,
  ErrorCode,
  GatehouseError,
  type ErrorCode as Code_,
} from '../../src-shared/errors.ts';
import type { ProxyAddress } from './proxy-address.ts';
import { isTlsVerifyFailure, unreachable } from './proxy-trust.ts';

export { ERROR_CODE_HEADER };

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_HTTP2_ERROR',
]);

/**
 * details.reason from the words of clusters that do not send ERROR_REASON_HEADER yet (their
 * messages for these failures are fixed), so the CLI and the app can still word them.
 */
export function inferReason(code: string, message: string): string | undefined {
  if (code === ErrorCode.BAD_CREDENTIALS && /enroll token/.test(message)) {
    if (/already used/.test(message)) return 'used';
    if (/unknown or expired/.test(message)) return 'unknown';
    if (/expired at/.test(message)) return 'expired';
  }
  if (code === ErrorCode.ACCESS_DENIED) {
    if (/but the cluster knows it as/.test(message)) return 'asset_tag_mismatch';
    if (/auto-enroll is off/.test(message)) return 'auto_enroll_off';
    if (/is not registered in cluster/.test(message)) return 'not_registered';
    if (/is already enrolled in cluster/.test(message)) return 'already_enrolled';
  }
  return undefined;
}

/** The innermost error with a Node error code (Connect wraps the socket error once or twice). */
export function rootCause(e: unknown): unknown {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur; i++) {
    if (typeof (cur as { code?: unknown }).code === 'string') return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return e;
}

export type TlsFailureExplainer = (proxy: ProxyAddress, cause: unknown) => Promise<GatehouseError>;

/**
 * Maps any error thrown by an API call. `explainTls` turns certificate verification failures
 * into the right PROXY_UNTRUSTED message (it may contact the proxy once more to compare CAs).
 */
export async function mapApiError(
  e: unknown,
  proxy: ProxyAddress,
  explainTls?: TlsFailureExplainer,
): Promise<GatehouseError> {
  if (e instanceof GatehouseError) return e;
  if (e instanceof ConnectError) {
    const code = e.metadata.get(ERROR_CODE_HEADER);
    if (code && KNOWN_CODES.has(code)) {
      // details.reason (auto_enroll_off, expired, asset_tag_mismatch, ...) lets the app word the refusal;
      // from a cluster that does not send the header yet, it is read off the message.
      const reason =
        detailsFromReasonHeader(e.metadata.get(ERROR_REASON_HEADER))?.reason ?? inferReason(code, e.rawMessage);
      return new GatehouseError(code as Code_, e.rawMessage, reason ? { reason } : undefined);
    }
    const cause = rootCause(e.cause);
    if (isTlsVerifyFailure(cause)) {
      return explainTls
        ? explainTls(proxy, cause)
        : new GatehouseError(
            ErrorCode.PROXY_UNTRUSTED,
            `the proxy at ${proxy.address} presents an untrusted certificate: ${(cause as Error).message}`,
          );
    }
    const causeCode = (cause as { code?: unknown } | undefined)?.code;
    if (typeof causeCode === 'string' && NETWORK_CODES.has(causeCode)) return unreachable(proxy, cause);
    switch (e.code) {
      case Code.Unavailable:
      case Code.Canceled:
        return new GatehouseError(
          ErrorCode.PROXY_UNREACHABLE,
          `cannot reach the proxy at ${proxy.address}: ${e.rawMessage}`,
          { proxy: proxy.address },
        );
      case Code.DeadlineExceeded:
        return new GatehouseError(ErrorCode.PROXY_UNREACHABLE, `the proxy at ${proxy.address} did not answer in time`, {
          proxy: proxy.address,
        });
      case Code.Unauthenticated:
        return new GatehouseError(ErrorCode.NOT_LOGGED_IN, e.rawMessage);
      case Code.PermissionDenied:
        return new GatehouseError(ErrorCode.ACCESS_DENIED, e.rawMessage);
      case Code.NotFound:
        return new GatehouseError(ErrorCode.NOT_FOUND, e.rawMessage);
      case Code.InvalidArgument:
        return new GatehouseError(ErrorCode.BAD_REQUEST, e.rawMessage);
      case Code.Unimplemented:
        return new GatehouseError(
          ErrorCode.INTERNAL,
          `the proxy at ${proxy.address} does not offer this call (older cluster version?): ${e.rawMessage}`,
        );
      default:
        return new GatehouseError(ErrorCode.INTERNAL, `the cluster API failed: ${e.rawMessage}`);
    }
  }
  const cause = rootCause(e);
  if (isTlsVerifyFailure(cause) && explainTls) return explainTls(proxy, cause);
  const causeCode = (cause as { code?: unknown } | undefined)?.code;
  if (typeof causeCode === 'string' && NETWORK_CODES.has(causeCode)) return unreachable(proxy, cause);
  return new GatehouseError(ErrorCode.INTERNAL, (e as Error)?.message ?? String(e));
}
