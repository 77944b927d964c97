// The part of the browser host's launch that comes after the URL is printed: composing the main
// services (this module and everything it imports load only now, while the browser is already
// fetching the page) and the launcher's --add-cluster. main.ts imports it with import(), so none
// of the client core, the gateways or the terminals is loaded before the server listens.
import { composeServices, type AppServices } from '../app/compose.ts';
import type { AppLogger } from '../app/logger.ts';
import { holdsPinnedCluster } from '../app/stored-clusters.ts';
import { createIpcDispatcher, type IpcDispatcher } from '../ipc/dispatcher.ts';
import type { ClusterSummary } from '../ipc/contract.ts';
import { toIpcError } from '../ipc/ipc-errors.ts';
import type { LaunchAddRow } from './launch-add-row.ts';

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

/**
 * How long the refresh of an already added cluster waits. Its first call loads the cluster client
 * (Connect, HTTP/2, X.509: some 0.3 s of CPU) and dials the proxy; started at once it would compete
 * with the window's first paint on a small machine, and nothing on screen needs it.
 */
export const KNOWN_CLUSTER_REFRESH_DELAY_MS = 2_000;

/** Runs `fn` later (the known cluster's refresh); tests pass their own. */
export type Defer = (fn: () => void) => void;

const afterDelay: Defer = (fn) => void setTimeout(fn, KNOWN_CLUSTER_REFRESH_DELAY_MS);

/** Starts the launcher's add of `proxy` (pinned to `caPin` when given); see LaunchClusterAdd. */
export function startLaunchClusterAdd(
  clusters: LaunchClusters,
  proxy: string,
  caPin?: string,
  deferRefresh: Defer = afterDelay,
): LaunchClusterAdd {
  const known = holdsPinnedCluster(clusters.list(), proxy, caPin);
  const add = () => clusters.add(proxy, caPin ? { caPin } : {});
  if (!known) {
    const done = add();
    return { beforeList: done.then(() => undefined), done, known };
  }
  const done = new Promise<ClusterSummary>((resolve, reject) => deferRefresh(() => void add().then(resolve, reject)));
  return { beforeList: Promise.resolve(), done, known };
}

export interface LaunchServicesOptions {
  home: string;
  log: AppLogger;
  addCluster?: { proxy: string; caPin?: string };
  /** When a known cluster's refresh runs (default: KNOWN_CLUSTER_REFRESH_DELAY_MS later). */
  deferRefresh?: Defer;
  /**
   * A NEW cluster's placeholder row: with it the renderer may list at once (the row says
   * 'connecting') instead of waiting for the add. Without it clusters.list waits for the add.
   */
  addRow?: LaunchAddRow;
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
  const { proxy, caPin } = opts.addCluster;
  const clusterAdd = startLaunchClusterAdd(services.clusters, proxy, caPin, opts.deferRefresh ?? afterDelay);
  const row = opts.addRow;
  if (clusterAdd.known || !row)
    return { services, dispatcher: clusterAdd.beforeList.then(() => dispatcher), clusterAdd };
  // The list does not wait for the add here, and its failure is shown in the row, not thrown.
  clusterAdd.beforeList.catch(() => undefined);
  clusterAdd.done
    .then(
      () => row.resolved(),
      (e: unknown) => row.failed(toIpcError(e, opts.log, { channel: 'launch add-cluster' })),
    )
    .finally(() => services.events.emit('clusters.changed', { proxy: row.proxy }));
  return { services, dispatcher: Promise.resolve(listingAddRow(dispatcher, row)), clusterAdd };
}

/** `dispatcher` with the launch add's placeholder row in every clusters.list answer (LaunchAddRow). */
export function listingAddRow(dispatcher: IpcDispatcher, row: LaunchAddRow): IpcDispatcher {
  return {
    onEvent: (listener) => dispatcher.onEvent(listener),
    attachTerminal: (...args) => dispatcher.attachTerminal(...args),
    async invoke(channel, rawInput) {
      const result = await dispatcher.invoke(channel, rawInput);
      if (channel !== 'clusters.list' || !result.ok) return result;
      return { ok: true, value: row.decorate(result.value as ClusterSummary[]) };
    },
  };
}
