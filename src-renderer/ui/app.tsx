// Picks the screen from the stores: loading → no cluster (or "Add cluster") → login → the work
// area (work-area.tsx: resources, terminal and gateway tabs, the relogin dialog).
import { lazy, Suspense, useEffect, useLayoutEffect } from 'react';
import { currentCluster } from '../stores/session-store.ts';
import { AddClusterScreen } from './add-cluster-screen.tsx';
import { ErrorAlert, LoadingStatus } from './feedback.tsx';
import { removeLaunchShell } from './launch-shell.ts';
import { LoginScreen } from './login-screen.tsx';
import { useSession, useStores, useUi } from './stores-context.tsx';
import { TopBar } from './top-bar.tsx';

// Code split (issue 16): the first screen is "Log in" or "Add cluster", so what only a session,
// the device screen or a dialog shows (xterm, the resource lists, enrollment) loads in its own
// chunk when first needed; the login form paints with the entry chunk alone.
const loadWorkArea = () => import('./work-area.tsx');
const WorkArea = lazy(() => loadWorkArea().then((m) => ({ default: m.WorkArea })));
const ThisDeviceScreen = lazy(() => import('./this-device-screen.tsx').then((m) => ({ default: m.ThisDeviceScreen })));
const ConfirmDialog = lazy(() => import('./confirm-dialog.tsx').then((m) => ({ default: m.ConfirmDialog })));
const ShortcutsDialog = lazy(() => import('./shortcuts-dialog.tsx').then((m) => ({ default: m.ShortcutsDialog })));

/** While a lazy screen's chunk loads (local files: a few ms). */
function ScreenLoading() {
  return (
    <main className="centered-page">
      <LoadingStatus>Loading…</LoadingStatus>
    </main>
  );
}

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
  // With the first screen up, the signed-in screens' chunk is fetched while the browser is idle,
  // so "Log in" does not wait for it.
  useEffect(() => {
    if (phase !== 'ready') return;
    const id = requestIdleCallback(() => void loadWorkArea());
    return () => cancelIdleCallback(id);
  }, [phase]);

  const cluster = currentCluster({ clusters });
  const loading = phase === 'loading' && clusters.length === 0;
  // The launch shell stands in until the first real screen is drawn: removed in the same commit
  // (before paint), after the login form took what was typed into it.
  useLayoutEffect(() => {
    if (!loading || lost) removeLaunchShell();
  }, [loading, lost]);
  let body;
  if (loading) {
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
        <Suspense fallback={<ScreenLoading />}>
          {adding ? (
            <AddClusterScreen />
          ) : cluster.session ? (
            <WorkArea />
          ) : view === 'device' ? (
            <ThisDeviceScreen onBack={() => ui.getState().showServers()} />
          ) : (
            <LoginScreen cluster={cluster} />
          )}
        </Suspense>
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
      <Suspense fallback={null}>
        {confirm && <ConfirmDialog confirm={confirm} />}
        {shortcutsOpen && <ShortcutsDialog />}
      </Suspense>
    </div>
  );
}
