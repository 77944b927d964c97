// The certificate a gateway's connections present, kept fresh while the gateway runs. SSH routes
// use the login's certificate; db and app routes a route certificate the client core caches
// until 2/3 of its life (core/route-certs.ts). Without a timer the first connection after that
// point would wait for the cluster to issue the next one; with it the renewal happens in the
// background, so a long-lived gateway (a browser tab left open for a day) never makes a request
// wait for an RPC, and never presents an expiring certificate.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { silentLogger, type CoreLogger } from '../core/types.ts';
import type { TlsClientCertificate } from './proxy-tunnel.ts';
import { describeRoute, type GatewayRoute } from './route.ts';

/** After a failed renewal (network, cluster restarting), the next try; until the certificate expires. */
export const RENEWAL_RETRY_MS = 30_000;
/** Margin past the renewal time, so the cache (same rule, same clock) surely sees it stale. */
const RENEWAL_MARGIN_MS = 1_000;
/** setTimeout's ceiling (~24.8 days); a longer wait is split. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Errors that no retry fixes: the user must log in again (the next connection says so). */
const FINAL_CODES: ReadonlySet<string> = new Set([ErrorCode.CERT_EXPIRED, ErrorCode.NOT_LOGGED_IN]);

/** The part of a gateway's RouteAccess the keeper uses (gateway-service.ts composes it). */
export interface CertificateSource {
  certificateFor(route: GatewayRoute): Promise<TlsClientCertificate>;
}

export interface RouteCertificateKeeperOptions {
  route: GatewayRoute;
  /** Read at each use: who the user is at which proxy now (a re-login is picked up). */
  access: () => CertificateSource;
  logger?: CoreLogger;
  now?: () => number;
  retryMs?: number;
}

export class RouteCertificateKeeper {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly log: CoreLogger;
  private readonly now: () => number;

  constructor(private readonly opts: RouteCertificateKeeperOptions) {
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
  }

  /** The certificate for the next connection (the cached one while fresh); schedules its renewal. */
  async current(): Promise<TlsClientCertificate> {
    const cert = await this.opts.access().certificateFor(this.opts.route);
    this.scheduleRenewal(cert);
    return cert;
  }

  /** Whether a renewal is scheduled (tests, status). */
  get renewing(): boolean {
    return this.timer !== undefined;
  }

  /** Stops renewing (the gateway closed). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private scheduleRenewal(cert: TlsClientCertificate): void {
    if (this.closed || this.timer || !cert.renewAt) return;
    this.arm(cert.renewAt.getTime() + RENEWAL_MARGIN_MS - this.now(), cert);
  }

  private arm(delayMs: number, cert: TlsClientCertificate): void {
    const wait = Math.min(Math.max(0, delayMs), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (delayMs > MAX_TIMER_MS) this.arm(delayMs - MAX_TIMER_MS, cert);
      else void this.renew(cert);
    }, wait);
    // A gateway's listener keeps the process alive; renewal alone must not.
    this.timer.unref();
  }

  private async renew(previous: TlsClientCertificate): Promise<void> {
    if (this.closed) return;
    try {
      const cert = await this.opts.access().certificateFor(this.opts.route);
      this.log.info('route certificate renewed', {
        route: describeRoute(this.opts.route),
        expires: cert.expiresAt?.toISOString(),
      });
      // Near the end of a login the cluster caps each new certificate at the login's expiry; a
      // renewal that gains nothing stops here instead of renewing ever more often. The next
      // connection after a new `gate login` (another certificate) starts the cycle again.
      const gained = (cert.expiresAt?.getTime() ?? 0) > (previous.expiresAt?.getTime() ?? 0);
      if (gained) this.scheduleRenewal(cert);
    } catch (e) {
      const code = e instanceof GatehouseError ? e.code : ErrorCode.INTERNAL;
      this.log.warn('route certificate renewal failed', {
        route: describeRoute(this.opts.route),
        code,
        reason: (e as Error).message,
      });
      const retry = this.opts.retryMs ?? RENEWAL_RETRY_MS;
      const expires = previous.expiresAt?.getTime() ?? 0;
      if (!this.closed && !this.timer && !FINAL_CODES.has(code) && this.now() + retry < expires) {
        this.arm(retry, previous);
      }
    }
  }
}
