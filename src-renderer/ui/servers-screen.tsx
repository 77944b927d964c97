// "Resources": what the user may reach on the current cluster — servers (with a login picker and
// Connect per row), databases (Connect opens the db user / db name dialog) and apps (Launch /
// Connect open a gateway) — filtered by kind and by the one search box.
import { useEffect, useId, useMemo, useRef } from 'react';
import type { ClusterSummary, ServerSummary } from '../../src-main/ipc/contract.ts';
import type { ResourceKind } from '../databases/database-filter.ts';
import { filterServers, labelChips } from '../servers/server-filter.ts';
import { loginFor, queryFor } from '../stores/servers-store.ts';
import { ErrorAlert, LoadingStatus } from './feedback.tsx';
import { SearchIcon, ServerIcon } from './icons.tsx';
import { AppsSection } from './apps-section.tsx';
import { DatabasesSection } from './databases-section.tsx';
import { useApps, useDatabases, useServers, useStores, useUi } from './stores-context.tsx';

export function ServersScreen({ cluster, hidden }: { cluster: ClusterSummary; hidden: boolean }) {
  const { servers: store, databases, apps, ui } = useStores();
  const query = useServers((s) => queryFor(s, cluster.proxy));
  const kind = useUi((s) => s.resourceKind);
  // Counted once listed: a failed list has no count to give.
  const serverCount = useServers((s) => countOf(s.byProxy[cluster.proxy], (l) => l.servers));
  const databaseCount = useDatabases((s) => countOf(s.byProxy[cluster.proxy], (l) => l.databases));
  const appCount = useApps((s) => countOf(s.byProxy[cluster.proxy], (l) => l.apps));
  const sessionKey = cluster.session?.validUntil;
  const expired = cluster.session?.expired === true;
  const searchId = useId();
  const searchRef = useRef<HTMLInputElement>(null);
  const focusRequest = useUi((s) => s.searchFocusRequest);

  // Ctrl+K / Ctrl+T: the screen is shown by the same store change; focus once it is visible.
  useEffect(() => {
    if (focusRequest === 0) return;
    requestAnimationFrame(() => {
      searchRef.current?.focus();
      searchRef.current?.select();
    });
  }, [focusRequest]);

  // (Re)load when the cluster or the session changes (a relogin brings new roles).
  // An expired session can't list anything; the relogin dialog is up and a relogin reloads.
  useEffect(() => {
    if (expired) return;
    void store.getState().load(cluster.proxy);
    void databases.getState().load(cluster.proxy);
    void apps.getState().load(cluster.proxy);
  }, [store, databases, apps, cluster.proxy, sessionKey, expired]);

  // Servers always count; databases and apps only when there are some ("0 apps" in a cluster
  // without an app service says nothing useful).
  const counts = [
    ...(serverCount !== undefined ? [plural(serverCount, 'server')] : []),
    ...(databaseCount ? [plural(databaseCount, 'database')] : []),
    ...(appCount ? [plural(appCount, 'app')] : []),
  ];

  return (
    <main className="page" hidden={hidden}>
      <div className="page-header">
        <div>
          <h1>Resources</h1>
          <p className="page-subtitle">
            {counts.length ? `${listWords(counts)} in ${cluster.clusterName}` : `Resources in ${cluster.clusterName}`}
          </p>
        </div>
        <div className="search">
          <label htmlFor={searchId} className="visually-hidden">
            Search servers, databases and apps
          </label>
          <SearchIcon />
          <input
            id={searchId}
            ref={searchRef}
            type="search"
            aria-keyshortcuts="Control+K"
            placeholder="Search by name or label, e.g. env=prod"
            autoComplete="off"
            spellCheck={false}
            value={query}
            onChange={(e) => store.getState().setQuery(cluster.proxy, e.target.value)}
          />
        </div>
      </div>
      <KindFilter kind={kind} onChange={(k) => ui.getState().setResourceKind(k)} />
      {(kind === 'all' || kind === 'servers') && <ServersSection cluster={cluster} />}
      {(kind === 'all' || kind === 'databases') && <DatabasesSection cluster={cluster} />}
      {(kind === 'all' || kind === 'apps') && <AppsSection cluster={cluster} />}
    </main>
  );
}

const countOf = <L extends { status: string }>(list: L | undefined, items: (l: L) => unknown[]) =>
  list?.status === 'ready' ? items(list).length : undefined;

const plural = (n: number, word: string) => `${n} ${n === 1 ? word : `${word}s`}`;

/** "a", "a and b", "a, b and c". */
const listWords = (words: string[]) =>
  words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)!}`;

const KINDS: Array<{ kind: ResourceKind; label: string }> = [
  { kind: 'all', label: 'All' },
  { kind: 'servers', label: 'Servers' },
  { kind: 'databases', label: 'Databases' },
  { kind: 'apps', label: 'Apps' },
];

/** All / Servers / Databases / Apps as a radio group (arrow keys move between them, as radios do). */
function KindFilter({ kind, onChange }: { kind: ResourceKind; onChange: (kind: ResourceKind) => void }) {
  const name = useId();
  return (
    <fieldset className="kind-filter">
      <legend className="visually-hidden">Show</legend>
      {KINDS.map((k) => (
        <label key={k.kind} className={`kind-option${kind === k.kind ? ' kind-option-selected' : ''}`}>
          <input type="radio" name={name} value={k.kind} checked={kind === k.kind} onChange={() => onChange(k.kind)} />
          {k.label}
        </label>
      ))}
    </fieldset>
  );
}

function ServersSection({ cluster }: { cluster: ClusterSummary }) {
  const { servers: store } = useStores();
  const list = useServers((s) => s.byProxy[cluster.proxy]);
  const query = useServers((s) => queryFor(s, cluster.proxy));
  const shown = useMemo(() => filterServers(list?.servers ?? [], query), [list, query]);
  const total = list?.servers.length ?? 0;
  const firstLoad = !list || (list.status === 'loading' && total === 0);
  const headingId = useId();

  return (
    <section className="resource-section" aria-labelledby={headingId}>
      <h2 id={headingId} className="section-title">
        Servers
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

      {firstLoad ? (
        <LoadingStatus className="page-loading">Loading servers…</LoadingStatus>
      ) : total === 0 ? (
        list?.status === 'ready' && (
          <div className="empty-state">
            <ServerIcon />
            <h3>No servers yet</h3>
            <p>
              Servers appear here when a node joins {cluster.clusterName} and your roles allow you to reach it. Ask your
              administrator if you expected to see one.
            </p>
          </div>
        )
      ) : shown.length === 0 ? (
        <div className="empty-state">
          <h3>No servers match “{query.trim()}”</h3>
          <p>Search by part of a name, a label value, or a label as key=value.</p>
          <button
            type="button"
            className="button button-secondary"
            onClick={() => store.getState().setQuery(cluster.proxy, '')}
          >
            Clear search
          </button>
        </div>
      ) : (
        <ServersTable cluster={cluster} servers={shown} />
      )}
      {list?.status === 'loading' && total > 0 && <LoadingStatus className="refreshing">Refreshing…</LoadingStatus>}
    </section>
  );
}

function ServersTable({ cluster, servers }: { cluster: ClusterSummary; servers: ServerSummary[] }) {
  return (
    <div className="table-wrap">
      <table className="servers-table" aria-label="Servers">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Address</th>
            <th scope="col">Labels</th>
            <th scope="col">Log in as</th>
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
            aria-label={`Log in as on ${server.name}`}
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
