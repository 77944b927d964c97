// The actions around the tab strip that touch several stores: asking before ending live sessions
// (closing a tab, logging out with tabs open), reopening the tabs remembered from before a reload
// or restart, and moving between tabs by number or in order (the keyboard shortcuts).
import type { TabDescriptor } from '../terminals/tab-memory.ts';
import type { GatewaysStore } from './gateways-store.ts';
import type { ReopenStore } from './reopen-store.ts';
import type { SessionStore } from './session-store.ts';
import type { TerminalsStore } from './terminals-store.ts';
import type { UiStore } from './ui-store.ts';

export interface TabActions {
  /** Closes the tab, asking first ("Close the session to X?") while its session is live. */
  requestCloseTab(tabId: string): void;
  /** Logs out, asking first ("Log out of C?") while the cluster has terminal or gateway tabs. */
  requestLogout(proxy: string): void;
  /** The answer to the pending question: true does what was asked. */
  answerConfirm(yes: boolean): Promise<void>;
  /** "Reopen tabs": opens what was remembered for the cluster and is not open yet. */
  reopenTabs(proxy: string, tabs: readonly TabDescriptor[]): Promise<void>;
  /** "Not now". */
  dismissReopen(proxy: string): void;
  /** Ctrl+1…9: the n-th tab of the strip (1-based; 9 is the last, as in browsers). */
  selectTabAt(n: number): void;
  /** Ctrl+Tab / Ctrl+Shift+Tab: the next / previous tab of the strip, wrapping around. */
  cycleTab(step: 1 | -1): void;
}

export interface TabActionDeps {
  session: SessionStore;
  terminals: TerminalsStore;
  gateways: GatewaysStore;
  ui: UiStore;
  reopen?: ReopenStore;
  closeTab(tabId: string): void;
  logout(proxy: string): Promise<void>;
  selectTab(tabId: string): void;
  selectGateway(gatewayId: string): void;
  warn(message: string): void;
}

/** The strip's order: terminal tabs, then gateway tabs (as TerminalTabs draws them). */
function stripOrder(d: TabActionDeps): Array<{ id: string; select(): void; selected: boolean }> {
  const { view } = d.ui.getState();
  const t = d.terminals.getState();
  const g = d.gateways.getState();
  return [
    ...t.tabs.map((tab) => ({
      id: tab.id,
      select: () => d.selectTab(tab.id),
      selected: view === 'terminals' && tab.id === t.activeTabId,
    })),
    ...g.tabs.map(({ gateway }) => ({
      id: gateway.id,
      select: () => d.selectGateway(gateway.id),
      selected: view === 'gateway' && gateway.id === g.activeGatewayId,
    })),
  ];
}

export function createTabActions(d: TabActionDeps): TabActions {
  const reopenOne = async (tab: TabDescriptor): Promise<void> => {
    if (tab.kind === 'terminal') {
      d.terminals.getState().openTab(tab.proxy, tab.node, tab.login);
      return;
    }
    // The remembered port may be taken by now: then any free one (the gateway matters, not its port).
    const gateways = d.gateways.getState();
    const create = (port: number | undefined) => {
      const at = port === undefined ? {} : { port };
      if (tab.kind === 'app-gateway') return gateways.createApp({ proxy: tab.proxy, app: tab.app, ...at });
      const { kind: _kind, port: _port, ...db } = tab;
      return gateways.create({ ...db, ...at });
    };
    let created = await create(tab.port);
    if (!created.ok) created = await create(undefined);
    if (!created.ok) d.warn(`reopening a gateway on ${tab.proxy}: ${created.error.message}`);
  };

  return {
    requestCloseTab(tabId) {
      const tab = d.terminals.getState().tabs.find((t) => t.id === tabId);
      const live = tab?.state.kind === 'open' || tab?.state.kind === 'connecting';
      if (tab && live) d.ui.getState().askConfirm({ kind: 'close-tab', tabId, title: tab.title });
      else d.closeTab(tabId);
    },

    requestLogout(proxy) {
      const open =
        d.terminals.getState().tabs.some((t) => t.proxy === proxy) ||
        d.gateways.getState().tabs.some((t) => t.gateway.proxy === proxy);
      const cluster = d.session.getState().clusters.find((c) => c.proxy === proxy);
      if (open) d.ui.getState().askConfirm({ kind: 'logout', proxy, clusterName: cluster?.clusterName ?? proxy });
      else void d.logout(proxy);
    },

    async answerConfirm(yes) {
      const pending = d.ui.getState().confirm;
      d.ui.getState().askConfirm(undefined);
      if (!yes || !pending) return;
      if (pending.kind === 'close-tab') d.closeTab(pending.tabId);
      else await d.logout(pending.proxy);
    },

    async reopenTabs(proxy, tabs) {
      d.reopen?.getState().dismiss(proxy);
      const terminalsBefore = d.terminals.getState().tabs.length;
      for (const tab of tabs) await reopenOne(tab);
      // Land on the first reopened terminal, as if it had been opened by hand first.
      const first = d.terminals.getState().tabs[terminalsBefore];
      if (first) d.selectTab(first.id);
      else if (d.gateways.getState().activeGatewayId) d.ui.getState().showGateway();
    },

    dismissReopen(proxy) {
      d.reopen?.getState().dismiss(proxy);
    },

    selectTabAt(n) {
      const items = stripOrder(d);
      const item = n >= 9 ? items.at(-1) : items[n - 1];
      item?.select();
    },

    cycleTab(step) {
      const items = stripOrder(d);
      if (items.length === 0) return;
      const at = items.findIndex((i) => i.selected);
      // Nothing selected (the resource browser is shown): forward starts at the first tab, back at the last.
      const next = at < 0 ? (step === 1 ? 0 : items.length - 1) : (at + step + items.length) % items.length;
      items[next]!.select();
    },
  };
}
