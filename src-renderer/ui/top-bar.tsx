// The app's header: brand, "Resources" navigation, the trusted-device indicator, the signed-in user
// and the cluster switcher.
import type { ClusterSummary } from '../../src-main/ipc/contract.ts';
import { isSessionUsable } from '../stores/session-store.ts';
import { ClusterMenu } from './cluster-menu.tsx';
import { DeviceTrustIndicator } from './device-trust-indicator.tsx';
import { GatehouseMark, KeyboardIcon } from './icons.tsx';
import { useDevice, useStores, useUi } from './stores-context.tsx';

export function TopBar({ cluster }: { cluster: ClusterSummary }) {
  const { ui } = useStores();
  const view = useUi((s) => s.view);
  // What the cluster last said about a lock on this device (device.status), for this cluster only.
  const lock = useDevice((s) => (s.status?.cluster?.proxy === cluster.proxy ? s.status.cluster.lock : undefined));
  const signedIn = isSessionUsable(cluster.session) || cluster.session?.expired === true;
  return (
    <header className="top-bar">
      <div className="brand">
        <GatehouseMark />
        <span className="brand-name">Gatehouse</span>
      </div>
      {signedIn && (
        <nav aria-label="Main" className="top-nav">
          <button
            type="button"
            className="nav-button"
            aria-current={view === 'servers' ? 'page' : undefined}
            onClick={() => ui.getState().showServers()}
          >
            Resources
          </button>
        </nav>
      )}
      <div className="top-bar-spacer" />
      <button
        type="button"
        className="icon-button"
        aria-label="Keyboard shortcuts"
        title="Keyboard shortcuts (Ctrl+/)"
        aria-keyshortcuts="Control+/"
        onClick={() => ui.getState().setShortcutsOpen(true)}
      >
        <KeyboardIcon />
      </button>
      {cluster.session && <DeviceTrustIndicator session={cluster.session} {...(lock ? { lock } : {})} />}
      {cluster.session && (
        <span className="user-name" title={`Roles: ${cluster.session.roles.join(', ') || 'none'}`}>
          <span className="visually-hidden">Logged in as </span>
          {cluster.session.user}
        </span>
      )}
      <ClusterMenu current={cluster} />
    </header>
  );
}
