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
import { MAX_PROXIES_PER_PROFILE, type ProxyAddress } from './proxy-address.ts';
import { isTlsVerifyFailure } from './proxy-trust.ts';
import { silentLogger, type CoreLogger } from './types.ts';

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

/**
 * The proxy a stream of tunnels (one SSH dial, or every connection of one local db/app gateway)
 * goes to, and the one rule for moving on: a tunnel starts at the proxy that last answered, and
 * only a dial that never reached it (neverReachedProxy) is tried on the next one in list order,
 * each proxy at most once per tunnel, so a tunnel costs at most one connect timeout per dead
 * proxy and later tunnels do not pay it again. A trust failure or a proxy's coded refusal ends
 * the tunnel's attempt where it is. Tunnels already open are never moved.
 */
export class ProxyFailover {
  #inUse: string | undefined;

  constructor(private readonly log: CoreLogger = silentLogger) {}

  /** The address the last tunnel was opened through (undefined before the first). */
  get inUse(): string | undefined {
    return this.#inUse;
  }

  /** Opens one tunnel with `dialOne` through `proxies` (the profile's, first one first). */
  async dial<T>(proxies: readonly ProxyAddress[], dialOne: (proxy: ProxyAddress) => Promise<T>): Promise<T> {
    if (proxies.length === 0) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'no proxy address to dial');
    const bounded = proxies.slice(0, MAX_PROXIES_PER_PROFILE);
    const start = Math.max(
      0,
      bounded.findIndex((p) => p.address === this.#inUse),
    );
    for (let tried = 0; ; tried++) {
      const proxy = bounded[(start + tried) % bounded.length]!;
      try {
        const opened = await dialOne(proxy);
        if (this.#inUse !== undefined && this.#inUse !== proxy.address) {
          this.log.info('now tunnelling through another proxy', { from: this.#inUse, to: proxy.address });
        }
        this.#inUse = proxy.address;
        return opened;
      } catch (e) {
        if (tried + 1 >= bounded.length || !neverReachedProxy(e)) throw e;
        this.log.warn('cannot reach the proxy; trying the next one', {
          from: proxy.address,
          to: bounded[(start + tried + 1) % bounded.length]!.address,
          error: (e as Error).message,
        });
      }
    }
  }
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
