// What the db service's and the app service's compositions share: the names their host
// certificate carries, the address their heartbeat advertises (proxies dial it), and the
// registration of their configured resources with auth, retried with backoff while auth is away.
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.ts';
import { Backoff, sleep } from '../service/backoff.ts';

const isIp = (h: string) => /^[\d.]+$|:/.test(h);

/** DNS names and IPs for the certificate of a service named `name` listening on `listenHost`. */
export function serviceCertNames(name: string, listenHost: string): { dnsNames: string[]; ips: string[] } {
  const names = [...new Set([name, hostname(), listenHost])];
  return {
    dnsNames: names.filter((n) => !isIp(n)),
    ips: [...new Set(['127.0.0.1', ...names.filter(isIp).filter((n) => n !== '0.0.0.0')])],
  };
}

/** HOST:PORT the heartbeat advertises: a wildcard listener is reached by the host's name. */
export function advertisedAddress(listening: { host: string; port: number }): string {
  const host = listening.host === '0.0.0.0' || listening.host === '::' ? hostname() : listening.host;
  return `${host.includes(':') ? `[${host}]` : host}:${listening.port}`;
}

/**
 * Calls `register` until it succeeds or `signal` ends it, backing off from 1 s to 60 s while auth
 * is away; `what` names the registration in log lines ("the configured apps").
 */
export async function registerUntilDone(
  what: string,
  register: (signal: AbortSignal) => Promise<void>,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  const backoff = new Backoff({ initialMs: 1_000, maxMs: 60_000 });
  while (!signal.aborted) {
    try {
      await register(signal);
      log.info(`registered ${what}`);
      return;
    } catch (e) {
      if (signal.aborted) return;
      if (backoff.attempt === 0) log.warn(`registering ${what} failed; retrying`, { error: (e as Error).message });
      await sleep(backoff.next(), signal);
    }
  }
}
