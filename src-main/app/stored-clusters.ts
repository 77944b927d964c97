// clusters.list answered from the two files that hold it (app-clusters.json and the CA pins),
// without composing the services (issue 16: the first screen must not wait for the client core,
// the gateways and the terminals to load). Read-only; it covers the launch's common case, clusters
// without a session: a session needs the core (its profile, certificates and device enrollment),
// so withSessions tells the caller to wait for the services then.
import type { ClusterSummary } from '../ipc/contract.ts';
import { KnownProxies, normalizeFingerprint } from '../core/known-proxies.ts';
import { parseProxyList } from '../core/proxy-address.ts';
import { AppClusterStore } from './app-clusters.ts';

export interface StoredClusters {
  /** As ClustersService.list() shows them, minus the session info. */
  list: ClusterSummary[];
  /** Whether some cluster has a session: then only the composed service can list them. */
  withSessions: boolean;
}

/** The stored clusters, or undefined when the files cannot be read (the composed service reports that). */
export function readStoredClusters(home: string): StoredClusters | undefined {
  try {
    const store = new AppClusterStore(home);
    const entries = store.list();
    const pins = new KnownProxies(home);
    const current = store.current();
    return {
      list: entries.map((e) => ({
        proxy: e.proxy,
        ...(e.proxies ? { proxies: [...e.proxies] } : {}),
        clusterName: e.clusterName,
        secondFactor: e.secondFactor,
        caFingerprint: pins.get(e.proxy)?.fingerprint ?? '',
        current: current === e.proxy,
      })),
      withSessions: entries.some((e) => e.user !== undefined),
    };
  } catch {
    return undefined;
  }
}

/**
 * Whether `list` holds `proxy` already pinned (to `caPin` when given): the launcher's add is then
 * only a refresh, and the stored entry is what the window shows.
 */
export function holdsPinnedCluster(list: readonly ClusterSummary[], proxy: string, caPin?: string): boolean {
  const wanted = parseProxyList(proxy)[0]!.address;
  const pin = caPin === undefined ? undefined : normalizeFingerprint(caPin);
  return list.some(
    (c) => c.proxy === wanted && c.caFingerprint !== '' && (pin === undefined || c.caFingerprint === pin),
  );
}
