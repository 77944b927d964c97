// The apps part of the resource browser: name (and description), kind (web or TCP), labels, and
// per row "Launch" (web apps: a gateway, then the browser at http://localhost:PORT/) or "Connect"
// (TCP apps: a gateway whose tab shows 127.0.0.1:PORT with Copy). Either opens the gateway tab.
import { useId, useMemo, useState } from 'react';
import type { AppSummary, ClusterSummary, IpcError } from '../../src-main/ipc/contract.ts';
import { APP_KIND_NAMES, filterApps } from '../apps/app-filter.ts';
import { labelChips } from '../servers/server-filter.ts';
import { queryFor } from '../stores/servers-store.ts';
import { ErrorAlert, LoadingStatus, Spinner } from './feedback.tsx';
import { AppIcon } from './icons.tsx';
import { useApps, useServers, useStores } from './stores-context.tsx';

export function AppsSection({ cluster }: { cluster: ClusterSummary }) {
  const { apps: store, servers } = useStores();
  const list = useApps((s) => s.byProxy[cluster.proxy]);
  const query = useServers((s) => queryFor(s, cluster.proxy));
  const shown = useMemo(() => filterApps(list?.apps ?? [], query), [list, query]);
  const total = list?.apps.length ?? 0;
  const firstLoad = !list || (list.status === 'loading' && total === 0);
  const headingId = useId();

  let body;
  if (firstLoad) {
    body = <LoadingStatus className="page-loading">Loading apps…</LoadingStatus>;
  } else if (total === 0) {
    body = list?.status === 'ready' && (
      <div className="empty-state">
        <AppIcon />
        <h3>No apps yet</h3>
        <p>
          Apps appear here when an app service of {cluster.clusterName} serves them and your roles allow you to reach
          them. Ask your administrator if you expected to see one.
        </p>
      </div>
    );
  } else if (shown.length === 0) {
    body = (
      <div className="empty-state">
        <h3>No apps match “{query.trim()}”</h3>
        <p>Search by part of a name, a kind (web, tcp), a label value, or a label as key=value.</p>
        <button
          type="button"
          className="button button-secondary"
          onClick={() => servers.getState().setQuery(cluster.proxy, '')}
        >
          Clear search
        </button>
      </div>
    );
  } else {
    body = <AppsTable cluster={cluster} apps={shown} />;
  }

  return (
    <section className="resource-section" aria-labelledby={headingId}>
      <h2 id={headingId} className="section-title">
        Apps
      </h2>
      {list?.status === 'failed' && (
        <div className="page-alert">
          <ErrorAlert error={list.error} context={{ proxy: cluster.proxy }} />
          <button
            type="button"
            className="button button-secondary"
            onClick={() => void store.getState().load(cluster.proxy)}
          >
            Try again
          </button>
        </div>
      )}
      {body}
      {list?.status === 'loading' && total > 0 && <LoadingStatus className="refreshing">Refreshing…</LoadingStatus>}
    </section>
  );
}

function AppsTable({ cluster, apps }: { cluster: ClusterSummary; apps: AppSummary[] }) {
  return (
    <div className="table-wrap">
      <table className="servers-table apps-table" aria-label="Apps">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Labels</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {apps.map((app) => (
            <AppRow key={app.name} cluster={cluster} app={app} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AppRow({ cluster, app }: { cluster: ClusterSummary; app: AppSummary }) {
  const { actions } = useStores();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<IpcError | undefined>();
  const chips = labelChips(app.labels);
  const web = app.kind === 'http';
  const open = async () => {
    setBusy(true);
    setError(undefined);
    setError(await actions.openApp(cluster.proxy, app));
    setBusy(false);
  };
  return (
    <tr>
      <th scope="row" className="server-name">
        <span>{app.name}</span>
        {app.description && <span className="server-host">{app.description}</span>}
        {app.publicAddr && <span className="server-host mono">{app.publicAddr}</span>}
      </th>
      <td>{APP_KIND_NAMES[app.kind]}</td>
      <td>
        {chips.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <ul className="chips" aria-label={`Labels of ${app.name}`}>
            {chips.map((c) => (
              <li key={c} className="chip">
                {c}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td className="app-actions">
        <button
          type="button"
          className="button button-primary button-small"
          aria-label={`${web ? 'Launch' : 'Connect to'} app ${app.name}`}
          title={web ? 'Opens the app in your browser through a local gateway' : 'Opens a local address for any client'}
          disabled={busy}
          onClick={() => void open()}
        >
          {busy && <Spinner />}
          {web ? 'Launch' : 'Connect'}
        </button>
        <ErrorAlert error={error} context={{ proxy: cluster.proxy }} compact />
      </td>
    </tr>
  );
}
