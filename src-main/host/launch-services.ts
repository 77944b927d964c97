// The part of the browser host's launch that comes after the URL is printed: composing the main
// services (this module and everything it imports load only now, while the browser is already
// fetching the page) and the launcher's --add-cluster. main.ts imports it with import(), so none
// of the client core, the gateways or the terminals is loaded before the server listens.
import { composeServices, type AppServices } from '../app/compose.ts';
import type { AppLogger } from '../app/logger.ts';
import { canonicalProxy } from '../app/sessions.ts';
import { normalizeFingerprint } from '../core/known-proxies.ts';
import { createIpcDispatcher, type IpcDispatcher } from '../ipc/dispatcher.ts';
import type { ClusterSummary } from '../ipc/contract.ts';

/** The slice of the clusters service the launch add uses. */
export interface LaunchClusters {
  list(): ClusterSummary[];
  add(proxy: string, trust?: { caPin?: string }): Promise<ClusterSummary>;
}

export interface LaunchClusterAdd {
  /**
   * Settles when the renderer may list the clusters: at once when this cluster is already added
   * and pinned to this CA (its stored entry is what the window shows; the add only refreshes it),
   * else when the add finished, so the first screen is its login and not "Add cluster".
   */
  beforeList: Promise<void>;
  /** The add itself (a refresh for a known cluster). */
  done: Promise<ClusterSummary>;
  /** Whether the cluster was already added with this pin: then a failed refresh is not fatal. */
  known: boolean;
}

/** Starts the launcher's add of `proxy` (pinned to `caPin` when given); see LaunchClusterAdd. */
export function startLaunchClusterAdd(clusters: LaunchClusters, proxy: string, caPin?: string): LaunchClusterAdd {
  const wanted = canonicalProxy(proxy);
  const pin = caPin === undefined ? undefined : normalizeFingerprint(caPin);
  const known = clusters
    .list()
    .some((c) => c.proxy === wanted && c.caFingerprint !== '' && (pin === undefined || c.caFingerprint === pin));
  const done = clusters.add(proxy, caPin ? { caPin } : {});
  const beforeList = known ? Promise.resolve() : done.then(() => undefined);
  return { beforeList, done, known };
}

export interface LaunchServicesOptions {
  home: string;
  log: AppLogger;
  addCluster?: { proxy: string; caPin?: string };
}

export interface LaunchServices {
  services: AppServices;
  /** Resolves with the dispatcher once the renderer may use it (see LaunchClusterAdd.beforeList). */
  dispatcher: Promise<IpcDispatcher>;
  /** The launcher's add, when --add-cluster was given. */
  clusterAdd?: LaunchClusterAdd;
}

export function composeLaunchServices(opts: LaunchServicesOptions): LaunchServices {
  const services = composeServices({ home: opts.home, logger: opts.log, host: 'browser' });
  const dispatcher = createIpcDispatcher(services);
  if (!opts.addCluster) return { services, dispatcher: Promise.resolve(dispatcher) };
  const clusterAdd = startLaunchClusterAdd(services.clusters, opts.addCluster.proxy, opts.addCluster.caPin);
  return { services, dispatcher: clusterAdd.beforeList.then(() => dispatcher), clusterAdd };
}
