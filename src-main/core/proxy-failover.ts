// Which of a cluster's proxies the client dials. A profile may name several proxies of one
// cluster (`gate login --proxy a:3080,b:3080`); the first keys the profile and the CA pin, and
// every proxy is verified against that one pinned CA (they share the cluster's host CA). A call
// moves to the next proxy only when it could not reach the one it dialled: a refused or
// unroutable connect, a TLS handshake that broke for a reason other than trust, or a deadline
// that passed while still connecting. A certificate that does not verify is an answer about
// trust, never a reason to try elsewhere silently. Nothing here moves a live session.
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { rootCause } from './api-errors.ts';
import { parseProxyAddress, type ProxyAddress } from './proxy-address.ts';
import { isTlsVerifyFailure } from './proxy-trust.ts';

/** More than this in one profile is a typo or a list that belongs behind a load balancer. */
export const MAX_PROXIES_PER_PROFILE = 8;

/** Socket errors that mean nothing reached the proxy's listener, so no call can have run there. */
const CONNECT_FAILURE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/**
 * Whether a tunnel dial's PROXY_UNREACHABLE (proxy-tunnel.ts words it "cannot reach the proxy at
 * ADDR: CODE") came from a connect or handshake that never reached the proxy's routing: nothing
 * was sent, so the next proxy may be dialled.
 */
export function neverReachedProxy(e: unknown): boolean {
  if (!(e instanceof GatehouseError) || e.code !== ErrorCode.PROXY_UNREACHABLE) return false;
  const code = /: (\w+)$/.exec(e.message)?.[1];
  return (code !== undefined && CONNECT_FAILURE_CODES.has(code)) || /no TLS handshake within/.test(e.message);
}

/** "a:3080,b:3080" (or one address) as canonical proxy addresses, first one first, no repeats. */
export function parseProxyList(input: string): ProxyAddress[] {
  const seen = new Map<string, ProxyAddress>();
  for (const part of input.split(',')) {
    if (!part.trim()) continue;
    const p = parseProxyAddress(part);
    if (!seen.has(p.address)) seen.set(p.address, p);
  }
  if (seen.size === 0) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'the proxy address is empty');
  if (seen.size > MAX_PROXIES_PER_PROFILE) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `${seen.size} proxy addresses given; at most ${MAX_PROXIES_PER_PROFILE} (put more behind one load-balanced name)`,
    );
  }
  return [...seen.values()];
}

/**
 * Whether `e` (thrown by a call on a connection in `sessionState`) shows the proxy was never
 * reached, so the same call may go to another proxy without running twice.
 */
export function isConnectFailure(e: unknown, sessionState: string): boolean {
  if (e instanceof GatehouseError) return false;
  const cause = rootCause(e instanceof ConnectError ? e.cause : e);
  if (isTlsVerifyFailure(cause)) return false;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && CONNECT_FAILURE_CODES.has(code)) return true;
  // A handshake the proxy broke off (alert, reset before TLS finished) is not a trust verdict.
  if (typeof code === 'string' && code.startsWith('ERR_SSL_') && sessionState !== 'open') return true;
  return e instanceof ConnectError && e.code === Code.DeadlineExceeded && sessionState === 'connecting';
}
