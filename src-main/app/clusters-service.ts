// Clusters the user added by proxy address. Adding first shows the user what they are about to
// trust: clusters.probe reaches the proxy over TLS verified against whatever CA it presents, asks
// its cluster name and answers the CA fingerprint WITHOUT pinning anything; the renderer shows it
// and only after the user confirms calls clusters.add with that fingerprint, which pins the CA
// only if the proxy still presents exactly it (else PROXY_UNTRUSTED: something changed between
// the two calls). clusters.add without a fingerprint keeps the older trust on first use (the
// renderer's add step without confirmation). The demo launcher (scripts/start-app.mjs) knows the
// demo CA and pins it with --ca-pin instead. From then on every connection must chain to the
// pinned CA.
import type { GatehouseClient } from '../core/gatehouse-client.ts';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import { normalizeFingerprint } from '../core/known-proxies.ts';
import type { TrustOptions } from '../core/proxy-trust.ts';
import type { Clock } from '../core/types.ts';
import type { ClusterProbe, ClusterSummary } from '../ipc/contract.ts';
import type { AppClusterStore, AppClusterEntry } from './app-clusters.ts';
import type { AuthService } from './auth-service.ts';
import type { AppLogger } from './logger.ts';
import { canonicalProxy, clusterProxies, sessionInfoOf, type ClusterClients, type Sessions } from './sessions.ts';

/** "SHA256:ab12…" → "AB:12:…", the way `gate login` shows a CA fingerprint to compare by eye. */
export function displayFingerprint(fingerprint: string): string {
  const hex = normalizeFingerprint(fingerprint).slice('SHA256:'.length).toUpperCase();
  return hex.match(/../g)!.join(':');
}

/** How clusters.add may trust the proxy: main's own options, or the fingerprint the user confirmed. */
export interface AddClusterTrust extends TrustOptions {
  /** What the user saw from clusters.probe and confirmed (any fingerprint notation). */
  confirmedFingerprint?: string;
}

export class ClustersService {
  constructor(
    private readonly deps: {
      core: GatehouseClient;
      store: AppClusterStore;
      clients: ClusterClients;
      sessions: Sessions;
      auth: AuthService;
      clock: Clock;
      log: AppLogger;
    },
  ) {}

  list(): ClusterSummary[] {
    return this.deps.store.list().map((c) => this.summary(c));
  }

  /**
   * The proxy's cluster name and CA fingerprint, for the user to confirm before anything is pinned.
   * The CA chosen to reach it stays pending in memory only (the next establishTrust replaces it),
   * and the probe's connection is dropped so no client keeps talking to an unconfirmed proxy.
   */
  async probe(proxyInput: string): Promise<ClusterProbe> {
    const { proxy, proxies } = clusterProxies(proxyInput);
    const { clients, core, store } = this.deps;
    const pinned = core.knownProxies.get(proxy);
    const known = store.get(proxy) !== undefined;
    const client = await clients.get(proxy, proxies);
    try {
      // The CA comes from the first proxy that answers; the ping may be answered by any (all
      // verified against that CA).
      const decision = await client.establishTrust(pinned ? {} : { trustOnFirstUse: true });
      const ping = await client.ping();
      const caFingerprint = displayFingerprint(decision.fingerprint);
      const presentedBy = decision.presentedBy ? { caPresentedBy: decision.presentedBy } : {};
      return { proxy, proxies, clusterName: ping.clusterName, caFingerprint, ...presentedBy, known };
    } finally {
      if (!known) clients.drop(proxy);
    }
  }

  /**
   * Adds (or refreshes) a cluster. `trust` is for callers in main (the demo launcher knows the CA
   * fingerprint); the renderer passes the fingerprint the user confirmed, or gets trust on first use.
   */
  async add(proxyInput: string, trust: AddClusterTrust = {}): Promise<ClusterSummary> {
    const { proxy, proxies } = clusterProxies(proxyInput);
    const { clients, core, store, clock, log } = this.deps;
    const { confirmedFingerprint, ...options } = trust;
    const client = await clients.get(proxy, proxies);
    const decision = confirmedFingerprint
      ? await this.establishConfirmed(proxy, confirmedFingerprint, () =>
          client.establishTrust({ caPin: confirmedFingerprint }),
        )
      : await client.establishTrust({ trustOnFirstUse: true, ...options });
    const ping = await client.ping();
    core.trust.confirm(client.proxy);
    // A replaced CA means a different (or re-created) cluster: the old session's certificates are not for it.
    if (decision.replacedFingerprint) await this.deps.auth.logout(proxy);
    const entry = store.upsert({
      proxy,
      ...(proxies.length > 1 ? { proxies } : {}),
      clusterName: ping.clusterName,
      secondFactor: ping.secondFactor,
      addedAt: clock().toISOString(),
    });
    this.keepSessionProxies(proxy, proxies);
    log.info('cluster added', {
      proxy,
      ...(proxies.length > 1 ? { proxies } : {}),
      cluster: ping.clusterName,
      ca: decision.fingerprint,
      newly_pinned: decision.newlyPinned,
      confirmed: confirmedFingerprint !== undefined,
    });
    return this.summary(entry);
  }

  /**
   * Pins the CA the user confirmed, or refuses: an already pinned, different CA is never replaced
   * from the renderer, and a proxy that now presents another CA than the one probed is refused.
   */
  private async establishConfirmed<T>(proxy: string, confirmed: string, establish: () => Promise<T>): Promise<T> {
    const want = normalizeFingerprint(confirmed);
    const pinned = this.deps.core.knownProxies.get(proxy);
    if (pinned && pinned.fingerprint !== want) {
      throw new GatehouseError(
        ErrorCode.PROXY_UNTRUSTED,
        `${proxy} is already pinned to certificate authority ${displayFingerprint(pinned.fingerprint)}, not the ` +
          `${displayFingerprint(want)} you confirmed; if your administrator replaced the CA, remove the cluster and add it again`,
        { proxy, pinned: displayFingerprint(pinned.fingerprint), confirmed: displayFingerprint(want) },
      );
    }
    try {
      return await establish();
    } catch (e) {
      if (!isGatehouseError(e) || e.code !== ErrorCode.PROXY_UNTRUSTED) throw e;
      this.deps.clients.drop(proxy);
      throw new GatehouseError(
        ErrorCode.PROXY_UNTRUSTED,
        `the proxy at ${proxy} no longer presents the certificate authority ${displayFingerprint(want)} you confirmed, ` +
          'so it was not added. Someone may be intercepting the connection, or the cluster was re-created: ' +
          'check again and compare the fingerprint with your administrator',
        { proxy, confirmed: displayFingerprint(want), reason: 'fingerprint-changed' },
      );
    }
  }

  /**
   * A session's gateways and terminals dial the proxies its login profile names; a re-add with
   * another list changes them at once rather than at the next login.
   */
  private keepSessionProxies(proxy: string, proxies: string[]): void {
    const profile = this.deps.sessions.profileOf(proxy);
    if (!profile || (profile.proxies ?? [proxy]).join(',') === proxies.join(',')) return;
    const { proxies: _replaced, ...rest } = profile;
    this.deps.core.profiles.update(proxies.length > 1 ? { ...rest, proxies } : rest);
  }

  /** Logs out, forgets the cluster and its CA pin (adding it again pins afresh). */
  async remove(proxyInput: string): Promise<null> {
    const proxy = canonicalProxy(proxyInput);
    const { store, clients, core, log } = this.deps;
    if (!store.get(proxy)) return null;
    await this.deps.auth.logout(proxy);
    store.remove(proxy);
    core.knownProxies.remove(proxy);
    clients.drop(proxy);
    log.info('cluster removed', { proxy });
    return null;
  }

  select(proxyInput: string): null {
    this.deps.store.select(canonicalProxy(proxyInput));
    return null;
  }

  private summary(entry: AppClusterEntry): ClusterSummary {
    const pin = this.deps.core.knownProxies.get(entry.proxy);
    const s: ClusterSummary = {
      proxy: entry.proxy,
      ...(entry.proxies ? { proxies: [...entry.proxies] } : {}),
      clusterName: entry.clusterName,
      secondFactor: entry.secondFactor,
      caFingerprint: pin?.fingerprint ?? '',
      current: this.deps.store.current() === entry.proxy,
    };
    const profile = this.deps.sessions.profileOf(entry.proxy);
    if (profile) s.session = sessionInfoOf(this.deps.core, profile, this.deps.clock());
    return s;
  }
}
