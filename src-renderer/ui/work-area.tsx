// The signed-in part of the window: resources, terminal and gateway tabs, the device screen, and
// the relogin dialog over it when the session expired. Its own chunk (app.tsx loads it lazily):
// nothing here is needed to paint the login form.
import { isSessionUsable, currentCluster } from '../stores/session-store.ts';
import { ExpiredDialog } from './expired-dialog.tsx';
import { GatewayPanel } from './gateway-panel.tsx';
import { ReopenBanner } from './reopen-banner.tsx';
import { ServersScreen } from './servers-screen.tsx';
import { useGateways, useSession, useStores, useTerminals, useUi } from './stores-context.tsx';
import { TerminalPanel } from './terminal-panel.tsx';
import { TerminalTabs } from './terminal-tabs.tsx';
import { ThisDeviceScreen } from './this-device-screen.tsx';
import { useAppShortcuts } from './use-app-shortcuts.ts';

export function WorkArea() {
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
