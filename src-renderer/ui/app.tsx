// Picks the screen from the stores: loading → no cluster (or "Add cluster") → login → the work
// area (resources, terminal and gateway tabs), with the relogin dialog over it when the session expired.
import { useEffect } from 'react';
import { currentCluster, isSessionUsable } from '../stores/session-store.ts';
import { AddClusterScreen } from './add-cluster-screen.tsx';
import { ExpiredDialog } from './expired-dialog.tsx';
import { ErrorAlert, LoadingStatus } from './feedback.tsx';
import { LoginScreen } from './login-screen.tsx';
import { ServersScreen } from './servers-screen.tsx';
import { GatewayPanel } from './gateway-panel.tsx';
import { useGateways, useSession, useStores, useTerminals, useUi } from './stores-context.tsx';
import { TerminalPanel } from './terminal-panel.tsx';
import { TerminalTabs } from './terminal-tabs.tsx';
import { ThisDeviceScreen } from './this-device-screen.tsx';
import { TopBar } from './top-bar.tsx';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { ReopenBanner } from './reopen-banner.tsx';
import { ShortcutsDialog } from './shortcuts-dialog.tsx';
import { useAppShortcuts } from './use-app-shortcuts.ts';

export function App() {
  const { actions, ui } = useStores();
  const phase = useSession((s) => s.phase);
  const loadError = useSession((s) => s.loadError);
  const menuError = useSession((s) => s.menuError);
  const clusters = useSession((s) => s.clusters);
  const adding = useUi((s) => s.addingCluster);
  const lost = useUi((s) => s.connectionLost);
  const view = useUi((s) => s.view);
  const confirm = useUi((s) => s.confirm);
  const shortcutsOpen = useUi((s) => s.shortcutsOpen);

  useEffect(() => {
    void actions.start();
  }, [actions]);

  const cluster = currentCluster({ clusters });
  let body;
  if (phase === 'loading' && clusters.length === 0) {
    body = (
      <main className="centered-page">
        <LoadingStatus>Loading…</LoadingStatus>
      </main>
    );
  } else if (phase === 'failed') {
    body = (
      <main className="centered-page">
        <div className="card card-narrow">
          <h1>Gatehouse could not start</h1>
          <ErrorAlert error={loadError} />
          <div className="actions">
            <button type="button" className="button button-primary" onClick={() => void actions.start()}>
              Try again
            </button>
          </div>
        </div>
      </main>
    );
  } else if (!cluster) {
    body = <AddClusterScreen />;
  } else {
    body = (
      <>
        <TopBar cluster={cluster} />
        {menuError && (
          <div className="top-alert">
            <ErrorAlert error={menuError} context={{ proxy: cluster.proxy }} compact />
          </div>
        )}
        {adding ? (
          <AddClusterScreen />
        ) : cluster.session ? (
          <WorkArea />
        ) : view === 'device' ? (
          <ThisDeviceScreen onBack={() => ui.getState().showServers()} />
        ) : (
          <LoginScreen cluster={cluster} />
        )}
      </>
    );
  }

  return (
    <div className="app">
      {lost && (
        <div className="connection-banner" role="alert">
          <strong>{lost}.</strong> Gatehouse stopped or the connection broke. Start it again and open the link it
          prints.
        </div>
      )}
      {body}
      {confirm && <ConfirmDialog confirm={confirm} />}
      {shortcutsOpen && <ShortcutsDialog />}
    </div>
  );
}

function WorkArea() {
  const stores = useStores();
  useAppShortcuts(stores);
  const clusters = useSession((s) => s.clusters);
  const tabs = useTerminals((s) => s.tabs);
  const activeId = useTerminals((s) => s.activeTabId);
  const gatewayTabs = useGateways((s) => s.tabs);
  const activeGatewayId = useGateways((s) => s.activeGatewayId);
  const view = useUi((s) => s.view);
  const cluster = currentCluster({ clusters })!;
  const session = cluster.session!;
  return (
    <>
      {isSessionUsable(session) && <ReopenBanner cluster={cluster} />}
      <TerminalTabs />
      <ServersScreen cluster={cluster} hidden={view !== 'servers'} />
      <ThisDeviceScreen hidden={view !== 'device'} />
      <div className="terminal-area" hidden={view !== 'terminals' || tabs.length === 0}>
        {tabs.map((tab) => (
          <TerminalPanel key={tab.id} tab={tab} visible={view === 'terminals' && tab.id === activeId} />
        ))}
      </div>
      {gatewayTabs.map((tab) => (
        <GatewayPanel
          key={tab.gateway.id}
          tab={tab}
          visible={view === 'gateway' && tab.gateway.id === activeGatewayId}
        />
      ))}
      {!isSessionUsable(session) && <ExpiredDialog cluster={cluster} user={session.user} />}
    </>
  );
}
