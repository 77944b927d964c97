// One place that builds the four stores for a GatehouseApi, wires main's events into them, and
// holds the few actions that touch more than one store.
import type { ClusterSummary, GatehouseApi, ServerSummary } from '../../src-main/ipc/contract.ts';
import { createServersStore, type ServersStore } from './servers-store.ts';
import { createSessionStore, type LoginInput, type SessionStore } from './session-store.ts';
import { createTerminalsStore, type TerminalsStore } from './terminals-store.ts';
import { createUiStore, type UiStore } from './ui-store.ts';

export interface AppActions {
  start(): Promise<void>;
  addCluster(rawAddress: string): Promise<ClusterSummary | undefined>;
  switchCluster(proxy: string): Promise<void>;
  login(input: LoginInput): Promise<boolean>;
  logout(proxy: string): Promise<void>;
  removeCluster(proxy: string): Promise<void>;
  connect(proxy: string, server: ServerSummary, login: string): void;
  closeTab(tabId: string): void;
  selectTab(tabId: string): void;
}

export interface AppStores {
  api: GatehouseApi;
  session: SessionStore;
  servers: ServersStore;
  terminals: TerminalsStore;
  ui: UiStore;
  actions: AppActions;
  /** Stops listening to main's events. */
  dispose(): void;
}

export function createAppStores(api: GatehouseApi, warn: (message: string) => void = () => {}): AppStores {
  const session = createSessionStore(api);
  const onSessionExpired = (proxy: string) => session.getState().markExpired(proxy);
  const servers = createServersStore({ api, onSessionExpired });
  const terminals = createTerminalsStore({ api, onSessionExpired, warn });
  const ui = createUiStore();

  const unsubscribe = [
    api.events.on('auth.expired', ({ proxy }) => onSessionExpired(proxy)),
    api.events.on('terminals.exit', (payload) => terminals.getState().handleExit(payload)),
  ];

  const actions: AppActions = {
    start: () => session.getState().load(),

    async addCluster(rawAddress) {
      const added = await session.getState().addCluster(rawAddress);
      if (added) ui.getState().setAddingCluster(false);
      return added;
    },

    async switchCluster(proxy) {
      if (await session.getState().selectCluster(proxy)) {
        ui.getState().setAddingCluster(false);
        ui.getState().showServers();
      }
    },

    async login(input) {
      const ok = await session.getState().login(input);
      if (ok) void servers.getState().load(input.proxy);
      return ok;
    },

    async logout(proxy) {
      terminals.getState().closeCluster(proxy);
      if (terminals.getState().tabs.length === 0) ui.getState().showServers();
      await session.getState().logout(proxy);
      servers.getState().forget(proxy);
    },

    async removeCluster(proxy) {
      terminals.getState().closeCluster(proxy);
      if (terminals.getState().tabs.length === 0) ui.getState().showServers();
      if (await session.getState().removeCluster(proxy)) servers.getState().forget(proxy);
    },

    connect(proxy, server, login) {
      terminals.getState().openTab(proxy, server.name, login);
      ui.getState().showTerminals();
    },

    closeTab(tabId) {
      const next = terminals.getState().closeTab(tabId);
      if (!next) ui.getState().showServers();
    },

    selectTab(tabId) {
      terminals.getState().activate(tabId);
      ui.getState().showTerminals();
    },
  };

  return {
    api,
    session,
    servers,
    terminals,
    ui,
    actions,
    dispose: () => unsubscribe.forEach((off) => off()),
  };
}
