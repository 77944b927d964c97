// The databases part of the resource browser: name, protocol, labels, the db users the roles
// allow, and "Connect" which opens the db user / db name dialog (then a gateway tab).
import { useId, useMemo, useState } from 'react';
import type { ClusterSummary, DatabaseSummary } from '../../src-main/ipc/contract.ts';
import { filterDatabases, PROTOCOL_NAMES } from '../databases/database-filter.ts';
import { labelChips } from '../servers/server-filter.ts';
import { queryFor } from '../stores/servers-store.ts';
import { DbConnectDialog } from './db-connect-dialog.tsx';
import { ErrorAlert, LoadingStatus } from './feedback.tsx';
import { DatabaseIcon } from './icons.tsx';
import { useDatabases, useServers, useStores } from './stores-context.tsx';

export function DatabasesSection({ cluster }: { cluster: ClusterSummary }) {
  const { databases: store, servers } = useStores();
  const list = useDatabases((s) => s.byProxy[cluster.proxy]);
  const query = useServers((s) => queryFor(s, cluster.proxy));
  const shown = useMemo(() => filterDatabases(list?.databases ?? [], query), [list, query]);
  const [connecting, setConnecting] = useState<DatabaseSummary | undefined>();
  const total = list?.databases.length ?? 0;
  const firstLoad = !list || (list.status === 'loading' && total === 0);
  const headingId = useId();

  let body;
  if (firstLoad) {
    body = <LoadingStatus className="page-loading">Loading databases…</LoadingStatus>;
  } else if (total === 0) {
    body = list?.status === 'ready' && (
      <div className="empty-state">
        <DatabaseIcon />
        <h3>No databases yet</h3>
        <p>
          Databases appear here when a db service of {cluster.clusterName} serves them and your roles allow you to reach
          them. Ask your administrator if you expected to see one.
        </p>
      </div>
    );
  } else if (shown.length === 0) {
    body = (
      <div className="empty-state">
        <h3>No databases match “{query.trim()}”</h3>
        <p>Search by part of a name, a protocol, a label value, or a label as key=value.</p>
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
    body = <DatabasesTable databases={shown} onConnect={setConnecting} />;
  }

  return (
    <section className="resource-section" aria-labelledby={headingId}>
      <h2 id={headingId} className="section-title">
        Databases
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
      {connecting && (
        <DbConnectDialog cluster={cluster} database={connecting} onDone={() => setConnecting(undefined)} />
      )}
    </section>
  );
}

function DatabasesTable({
  databases,
  onConnect,
}: {
  databases: DatabaseSummary[];
  onConnect: (db: DatabaseSummary) => void;
}) {
  return (
    <div className="table-wrap">
      <table className="servers-table" aria-label="Databases">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Protocol</th>
            <th scope="col">Labels</th>
            <th scope="col">Database users</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {databases.map((db) => (
            <DatabaseRow key={db.name} db={db} onConnect={() => onConnect(db)} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DatabaseRow({ db, onConnect }: { db: DatabaseSummary; onConnect: () => void }) {
  const chips = labelChips(db.labels);
  const noUsers = db.allowedDbUsers.length === 0;
  const users = db.allowedDbUsers.map((u) => (u === '*' ? 'any' : u)).join(', ');
  return (
    <tr>
      <th scope="row" className="server-name">
        <span>{db.name}</span>
        {db.description && <span className="server-host">{db.description}</span>}
      </th>
      <td>{PROTOCOL_NAMES[db.protocol]}</td>
      <td>
        {chips.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <ul className="chips" aria-label={`Labels of ${db.name}`}>
            {chips.map((c) => (
              <li key={c} className="chip">
                {c}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td className={noUsers ? 'muted' : 'mono'}>{noUsers ? 'None allowed' : users}</td>
      <td>
        <button
          type="button"
          className="button button-primary button-small"
          aria-label={`Connect to database ${db.name}`}
          disabled={noUsers}
          title={noUsers ? 'Your roles allow no database user here' : undefined}
          onClick={onConnect}
        >
          Connect
        </button>
      </td>
    </tr>
  );
}
