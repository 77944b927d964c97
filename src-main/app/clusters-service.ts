// Clusters the user added by proxy address. Adding pings the proxy over TLS verified against a CA
// chosen by trust on first use (what the proxy presents now) and pins it once the ping succeeded.
// Unlike `gate login`, which refuses an unconfirmed first contact unless the user confirms the
// fingerprint or passes --ca-pin, the app treats "Add cluster" as the user's explicit "yes, this
// one" (trustOnFirstUse): the renderer has no step yet to show the fingerprint before pinning, and
// the cluster card shows it right after so it can be compared with the administrator's. The demo
// launcher (scripts/start-app.mjs) knows the demo CA and pins it with --ca-pin instead. From then
// on every connection must chain to the pinned CA.
import type { GatehouseClient } from '../core/gatehouse-client.ts';
import type { TrustOptions } from '../core/proxy-trust.ts';
import type { Clock } from '../core/types.ts';
import type { ClusterSummary } from '../ipc/contract.ts';
import type { AppClusterStore, AppClusterEntry } from './app-clusters.ts';
import type { AuthService } from './auth-service.ts';
import type { AppLogger } from './logger.ts';
import { canonicalProxy, sessionInfoOf, type ClusterClients, type Sessions } from './sessions.ts';

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
   * Adds (or refreshes) a cluster. `trust` is for callers in main only (the demo launcher knows
   * the CA fingerprint); the renderer always gets trust on first use.
   */
  async add(proxyInput: string, trust: TrustOptions = {}): Promise<ClusterSummary> {
    const proxy = canonicalProxy(proxyInput);
    const { clients, core, store, clock, log } = this.deps;
    const client = await clients.get(proxy);
    const decision = await client.establishTrust({ trustOnFirstUse: true, ...trust });
    const ping = await client.ping();
    core.trust.confirm(client.proxy);
    // A replaced CA means a different (or re-created) cluster: the old session's certificates are not for it.
    if (decision.replacedFingerprint) await this.deps.auth.logout(proxy);
    const entry = store.upsert({
      proxy,
      clusterName: ping.clusterName,
      secondFactor: ping.secondFactor,
      addedAt: clock().toISOString(),
    });
    log.info('cluster added', {
      proxy,
      cluster: ping.clusterName,
      ca: decision.fingerprint,
      newly_pinned: decision.newlyPinned,
    });
    return this.summary(entry);
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
