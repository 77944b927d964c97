// "Servers": the nodes of the current cluster the user may see, searchable, with a login picker
// and a Connect button per row.
import { useEffect, useId, useMemo } from 'react';
import type { ClusterSummary, ServerSummary } from '../../src-main/ipc/contract.ts';
import { filterServers, labelChips } from '../servers/server-filter.ts';
import { loginFor } from '../stores/servers-store.ts';
import { ErrorAlert, LoadingStatus } from './feedback.tsx';
import { SearchIcon, ServerIcon } from './icons.tsx';
import { useServers, useStores } from './stores-context.tsx';

export function ServersScreen({ cluster, hidden }: { cluster: ClusterSummary; hidden: boolean }) {
  const { servers: store } = useStores();
  const list = useServers((s) => s.byProxy[cluster.proxy]);
  const query = useServers((s) => s.query);
  const sessionKey = cluster.session?.validUntil;
  const expired = cluster.session?.expired === true;
  const searchId = useId();

  // (Re)load when the cluster or the session changes (a relogin brings new roles).
  // An expired session can't list anything; the relogin dialog is up and a relogin reloads.
  useEffect(() => {
    if (!expired) void store.getState().load(cluster.proxy);
  }, [store, cluster.proxy, sessionKey, expired]);

  const shown = useMemo(() => filterServers(list?.servers ?? [], query), [list, query]);
  const total = list?.servers.length ?? 0;
  const firstLoad = !list || (list.status === 'loading' && total === 0);

  return (
    <main className="page" hidden={hidden}>
      <div className="page-header">
        <div>
          <h1>Servers</h1>
          <p className="page-subtitle">
            {firstLoad
              ? `Servers in ${cluster.clusterName}`
              : `${total} ${total === 1 ? 'server' : 'servers'} in ${cluster.clusterName}`}
          </p>
        </div>
        <div className="search">
          <label htmlFor={searchId} className="visually-hidden">
            Search servers
          </label>
          <SearchIcon />
          <input
            id={searchId}
            type="search"
            placeholder="Search by name or label, e.g. env=prod"
            autoComplete="off"
            spellCheck={false}
            value={query}
            onChange={(e) => store.getState().setQuery(e.target.value)}
          />
        </div>
      </div>

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

      {firstLoad ? (
        <LoadingStatus className="page-loading">Loading servers…</LoadingStatus>
      ) : total === 0 ? (
        list?.status === 'ready' && (
          <div className="empty-state">
            <ServerIcon />
            <h2>No servers yet</h2>
            <p>
              Servers appear here when a node joins {cluster.clusterName} and your roles allow you to reach it. Ask your
              administrator if you expected to see one.
            </p>
          </div>
        )
      ) : shown.length === 0 ? (
        <div className="empty-state">
          <h2>No servers match “{query.trim()}”</h2>
          <p>Search by part of a name, a label value, or a label as key=value.</p>
          <button type="button" className="button button-secondary" onClick={() => store.getState().setQuery('')}>
            Clear search
          </button>
        </div>
      ) : (
        <ServersTable cluster={cluster} servers={shown} />
      )}
      {list?.status === 'loading' && total > 0 && <LoadingStatus className="refreshing">Refreshing…</LoadingStatus>}
    </main>
  );
}

function ServersTable({ cluster, servers }: { cluster: ClusterSummary; servers: ServerSummary[] }) {
  return (
    <div className="table-wrap">
      <table className="servers-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Address</th>
            <th scope="col">Labels</th>
            <th scope="col">Login</th>
          </tr>
        </thead>
        <tbody>
          {servers.map((s) => (
            <ServerRow key={s.name} cluster={cluster} server={s} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ServerRow({ cluster, server }: { cluster: ClusterSummary; server: ServerSummary }) {
  const { servers: store, actions } = useStores();
  const login = useServers((s) => loginFor(s, cluster.proxy, server));
  const chips = labelChips(server.labels);
  const noLogins = server.logins.length === 0;
  return (
    <tr>
      <th scope="row" className="server-name">
        <span>{server.name}</span>
        {server.hostname && server.hostname !== server.name && <span className="server-host">{server.hostname}</span>}
      </th>
      <td className="mono server-address">{server.address}</td>
      <td>
        {chips.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <ul className="chips" aria-label={`Labels of ${server.name}`}>
            {chips.map((c) => (
              <li key={c} className="chip">
                {c}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>
        <div className="login-cell">
          <select
            aria-label={`Login for ${server.name}`}
            className="select"
            value={login}
            disabled={noLogins}
            onChange={(e) => store.getState().chooseLogin(cluster.proxy, server.name, e.target.value)}
          >
            {noLogins ? (
              <option value="">No logins allowed</option>
            ) : (
              server.logins.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))
            )}
          </select>
          <button
            type="button"
            className="button button-primary button-small"
            aria-label={`Connect to ${server.name}`}
            disabled={noLogins}
            title={noLogins ? 'Your roles allow no login on this server' : undefined}
            onClick={() => actions.connect(cluster.proxy, server, login)}
          >
            Connect
          </button>
        </div>
      </td>
    </tr>
  );
}
