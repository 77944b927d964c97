// What the browser host answers before its services are composed (issue 16, launch): the first
// screen asks for clusters.list, gateways.list and app.info, and all three can be read without
// the client core, the gateways or the terminals. Loaded right after the URL is printed, so
// zod (the stored files' schemas) stays off the path to the URL.
import type { ClusterSummary, GatewaySummary } from '../ipc/contract.ts';
import type { EarlyAnswers } from '../ipc/deferred-dispatcher.ts';
import { holdsPinnedCluster, readStoredClusters } from '../app/stored-clusters.ts';
import { normalizeFingerprint } from '../core/known-proxies.ts';
import { parseProxyList } from '../core/proxy-address.ts';
import { clientVersion } from '../core/version.ts';
import { LaunchAddRow } from './launch-add-row.ts';

export interface EarlyAnswerOptions {
  home: string;
  /** The launcher's new cluster while its add runs: listed as a placeholder row. */
  addRow?: LaunchAddRow;
  /** Called after each clusters.list answered early (the launcher composes the rest soon after). */
  onListed?: () => void;
}

/**
 * clusters.list as the stored files give it (with the launcher's placeholder row), or undefined
 * when a cluster has a session: that needs the core (profile, certificates, device enrollment).
 * Also what the launch shell pre-renders (launch-shell.ts).
 */
export function storedClusterList(opts: Pick<EarlyAnswerOptions, 'home' | 'addRow'>): ClusterSummary[] | undefined {
  const stored = readStoredClusters(opts.home);
  if (!stored || stored.withSessions) return undefined;
  return opts.addRow ? opts.addRow.decorate(stored.list) : stored.list;
}

export function launchEarlyAnswers(opts: EarlyAnswerOptions): EarlyAnswers {
  return {
    answer(channel) {
      switch (channel) {
        case 'clusters.list': {
          const list = storedClusterList(opts);
          if (!list) return undefined;
          opts.onListed?.();
          return list;
        }
        // Gateways live in the composed services only: before them there are none.
        case 'gateways.list':
          return [] satisfies GatewaySummary[];
        case 'app.info':
          return { version: clientVersion(), host: 'browser', platform: process.platform };
        default:
          return undefined;
      }
    },
  };
}

/**
 * The placeholder row for the launcher's --add-cluster when that cluster is NEW to `home` (not
 * stored, or stored with another pin); undefined when it is known (the stored entry is listed
 * and only refreshed) or the address or pin is malformed (the add itself reports that).
 */
export function newClusterRow(home: string, proxy: string, caPin?: string): LaunchAddRow | undefined {
  const stored = readStoredClusters(home);
  try {
    if (stored && holdsPinnedCluster(stored.list, proxy, caPin)) return undefined;
    return new LaunchAddRow(parseProxyList(proxy)[0]!.address, caPin ? normalizeFingerprint(caPin) : '');
  } catch {
    return undefined;
  }
}
