// After a page reload or an app restart: "You had N tabs open on C" with "Reopen tabs" / "Not now",
// shown once per cluster while logged in (see stores/reopen-store.ts).
import { useMemo } from 'react';
import { useStore } from 'zustand';
import type { ClusterSummary } from '../../src-main/ipc/contract.ts';
import { pendingReopen } from '../stores/reopen-store.ts';
import { describeTabs } from '../terminals/tab-memory.ts';
import { useGateways, useStores, useTerminals } from './stores-context.tsx';
import type { ReopenStore } from '../stores/reopen-store.ts';

export function ReopenBanner({ cluster }: { cluster: ClusterSummary }) {
  const { reopen } = useStores();
  return reopen ? <Banner reopen={reopen} cluster={cluster} /> : null;
}

function Banner({ reopen, cluster }: { reopen: ReopenStore; cluster: ClusterSummary }) {
  const { actions } = useStores();
  const offers = useStore(reopen, (s) => s.offers);
  const terminalTabs = useTerminals((s) => s.tabs);
  const gatewayTabs = useGateways((s) => s.tabs);
  const pending = useMemo(
    () =>
      pendingReopen(
        { offers },
        cluster.proxy,
        describeTabs(
          terminalTabs,
          gatewayTabs.map((t) => t.gateway),
        ),
      ),
    [offers, cluster.proxy, terminalTabs, gatewayTabs],
  );
  if (pending.length === 0) return null;
  const names = pending.map((d) =>
    d.kind === 'terminal' ? `${d.login}@${d.node}` : d.kind === 'app-gateway' ? d.app : `${d.dbUser}@${d.database}`,
  );
  return (
    <div className="reopen-banner" role="region" aria-label="Reopen tabs">
      <p>
        You had {pending.length === 1 ? 'a tab' : `${pending.length} tabs`} open on {cluster.clusterName}:{' '}
        <span className="mono">{names.join(', ')}</span>
      </p>
      <div className="reopen-actions">
        <button
          type="button"
          className="button button-primary button-small"
          onClick={() => void actions.reopenTabs(cluster.proxy, pending)}
        >
          Reopen tabs
        </button>
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={() => actions.dismissReopen(cluster.proxy)}
        >
          Not now
        </button>
      </div>
    </div>
  );
}
