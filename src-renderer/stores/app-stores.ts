// One place that builds the stores for a GatehouseApi, wires main's events into them, and
// holds the few actions that touch more than one store.
import type {
  AppSummary,
  ClusterProbe,
  ClusterSummary,
  DatabaseSummary,
  GatehouseApi,
  IpcError,
  ServerSummary,
} from '../../src-main/ipc/contract.ts';
import { createAppsStore, type AppsStore } from './apps-store.ts';
import { createDeviceStore, type DeviceStore } from './device-store.ts';
import { createDatabasesStore, type DatabasesStore } from './databases-store.ts';
import { createGatewaysStore, type GatewaysStore } from './gateways-store.ts';
import { createServersStore, type ServersStore } from './servers-store.ts';
import { createSessionStore, currentCluster, type LoginInput, type SessionStore } from './session-store.ts';
import { createTerminalsStore, type TerminalsStore } from './terminals-store.ts';
import { createUiStore, type UiStore } from './ui-store.ts';
import { TabMemory, type KeyValueStorage } from '../terminals/tab-memory.ts';
import { createReopenStore, type ReopenStore } from './reopen-store.ts';
import { createTabActions, type TabActions } from './tab-actions.ts';

export interface AppActions extends TabActions {
  start(): Promise<void>;
  /** "Next" on the add form: probes the proxy (the confirmation shows next); known ones are selected. */
  probeCluster(rawAddress: string): Promise<ClusterSummary | undefined>;
  /** "Trust and add" on the confirmation of the probed proxy's CA fingerprint. */
  addCluster(probe: ClusterProbe): Promise<ClusterSummary | undefined>;
  switchCluster(proxy: string): Promise<void>;
  login(input: LoginInput): Promise<boolean>;
  logout(proxy: string): Promise<void>;
  removeCluster(proxy: string): Promise<void>;
  connect(proxy: string, server: ServerSummary, login: string): void;
  closeTab(tabId: string): void;
  selectTab(tabId: string): void;
  /** Opens a gateway for the database and shows its tab; the error when main refused. */
  connectDatabase(
    proxy: string,
    db: DatabaseSummary,
    choice: { dbUser: string; dbName?: string },
  ): Promise<IpcError | undefined>;
  /**
   * An app's gateway (opened, or the open one) and its tab; a web app is then opened in the
   * browser. The error when main refused to open the gateway (a failed browser launch shows in the tab).
   */
  openApp(proxy: string, app: AppSummary): Promise<IpcError | undefined>;
  selectGateway(gatewayId: string): void;
  closeGateway(gatewayId: string): Promise<void>;
  /** A terminal tab running the gateway's client (psql / mariadb), built and started by main. */
  runGatewayClient(gatewayId: string): void;
  /** Shows the "This device" screen for the current cluster and reads its data. */
  openThisDevice(): void;
  /** The screen's Refresh: asks again, re-probing the TPM. */
  refreshThisDevice(): Promise<void>;
}

export interface AppStores {
  api: GatehouseApi;
  session: SessionStore;
  servers: ServersStore;
  databases: DatabasesStore;
  apps: AppsStore;
  gateways: GatewaysStore;
  terminals: TerminalsStore;
  device: DeviceStore;
  ui: UiStore;
  /** The "Reopen tabs" offers; absent when the window has no storage to remember tabs in. */
  reopen?: ReopenStore;
  actions: AppActions;
  /** Stops listening to main's events. */
  dispose(): void;
}

/**
 * `openUrl` opens a URL in a new browser tab: Launch's stand-in when main cannot open the
 * browser (the browser host); the Electron renderer never needs it. `storage` (the window's
 * localStorage) remembers the open tabs per cluster for "Reopen tabs".
 */
export function createAppStores(
  api: GatehouseApi,
  warn: (message: string) => void = () => {},
  openUrl?: (url: string) => void,
  storage?: KeyValueStorage,
): AppStores {
  const session = createSessionStore(api);
  const onSessionExpired = (proxy: string) => session.getState().markExpired(proxy);
  const servers = createServersStore({ api, onSessionExpired });
  const databases = createDatabasesStore({ api, onSessionExpired });
  const apps = createAppsStore({ api, onSessionExpired });
  const gateways = createGatewaysStore({ api, onSessionExpired, ...(openUrl ? { openUrl } : {}) });
  const terminals = createTerminalsStore({ api, onSessionExpired, warn });
  const ui = createUiStore();
  const device = createDeviceStore({ api, onEnrolled: () => session.getState().refresh() });
  const loggedIn = (proxy: string) => session.getState().clusters.some((c) => c.proxy === proxy && c.session);
  /** The device screen's data for the current cluster (the device alone when no cluster is known). */
  const loadDevice = (refresh = false) => {
    const proxy = currentCluster(session.getState())?.proxy;
    return device.getState().load(proxy, { refresh, loggedIn: proxy !== undefined && loggedIn(proxy) });
  };
  const reopen = storage ? createReopenStore(new TabMemory(storage, warn), terminals, gateways) : undefined;
  /** After a tab went away: back to the resource browser when no tab of either kind is left. */
  const afterTabClosed = () => {
    const { view } = ui.getState();
    if (view === 'terminals' && terminals.getState().tabs.length === 0) ui.getState().showServers();
    if (view === 'gateway' && gateways.getState().activeGatewayId === undefined) ui.getState().showServers();
  };

  const unsubscribe = [
    api.events.on('auth.expired', ({ proxy }) => onSessionExpired(proxy)),
    api.events.on('terminals.exit', (payload) => terminals.getState().handleExit(payload)),
    api.events.on('gateways.status', (gateway) => gateways.getState().handleStatus(gateway)),
    api.events.on('device.enrollProgress', (payload) => device.getState().handleProgress(payload)),
    // Enrolled here or by `gate` in a terminal, a lock, a re-authentication: the indicator reads
    // the session, the screen its status; both are re-read (the screen only once it was opened).
    // A lock is read from the cluster at once, screen open or not: the indicator says "Locked".
    api.events.on('device.changed', ({ reason }) => {
      void session.getState().refresh();
      if (reason === 'lock' || device.getState().status || device.getState().statusError) void loadDevice();
    }),
    // The launcher's add of a new cluster finished (or failed): its placeholder row is replaced.
    api.events.on('clusters.changed', () => void session.getState().refresh()),
    api.events.on('gateways.closed', ({ gatewayId }) => {
      gateways.getState().handleClosed(gatewayId);
      afterTabClosed();
    }),
  ];

  const base: Omit<AppActions, keyof TabActions> = {
    async start() {
      // Gateways live in main: after a reload their tabs come back.
      await Promise.all([session.getState().load(), gateways.getState().load()]);
      for (const c of session.getState().clusters) reopen?.store.getState().loadOffer(c.proxy);
    },

    async probeCluster(rawAddress) {
      const selected = await session.getState().probeCluster(rawAddress);
      if (selected) ui.getState().setAddingCluster(false);
      return selected;
    },

    async addCluster(probe) {
      const added = await session.getState().addCluster(probe);
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
      // A lock the indicator showed may have been lifted since: ask the cluster again.
      if (ok && device.getState().status?.cluster?.lock) void loadDevice();
      return ok;
    },

    async logout(proxy) {
      terminals.getState().closeCluster(proxy);
      gateways.getState().forgetCluster(proxy);
      afterTabClosed();
      await session.getState().logout(proxy);
      servers.getState().forget(proxy);
      databases.getState().forget(proxy);
      apps.getState().forget(proxy);
    },

    async removeCluster(proxy) {
      terminals.getState().closeCluster(proxy);
      gateways.getState().forgetCluster(proxy);
      afterTabClosed();
      if (await session.getState().removeCluster(proxy)) {
        servers.getState().forget(proxy);
        databases.getState().forget(proxy);
        apps.getState().forget(proxy);
      }
    },

    connect(proxy, server, login) {
      terminals.getState().openTab(proxy, server.name, login);
      ui.getState().showTerminals();
    },

    closeTab(tabId) {
      terminals.getState().closeTab(tabId);
      afterTabClosed();
    },

    selectTab(tabId) {
      terminals.getState().activate(tabId);
      ui.getState().showTerminals();
    },

    async connectDatabase(proxy, db, choice) {
      const result = await gateways.getState().create({
        proxy,
        database: db.name,
        protocol: db.protocol,
        dbUser: choice.dbUser,
        ...(choice.dbName ? { dbName: choice.dbName } : {}),
      });
      if (!result.ok) return result.error;
      ui.getState().showGateway();
      return undefined;
    },

    async openApp(proxy, app) {
      const created = await gateways.getState().createApp({ proxy, app: app.name });
      if (!created.ok) return created.error;
      ui.getState().showGateway();
      if (app.kind === 'http') await gateways.getState().launch(created.id);
      return undefined;
    },

    selectGateway(gatewayId) {
      gateways.getState().activate(gatewayId);
      ui.getState().showGateway();
    },

    async closeGateway(gatewayId) {
      await gateways.getState().close(gatewayId);
      afterTabClosed();
    },

    runGatewayClient(gatewayId) {
      const tab = gateways.getState().tabs.find((t) => t.gateway.id === gatewayId);
      if (tab?.gateway.kind !== 'db') return;
      const { gateway } = tab;
      const program = gateway.protocol === 'postgres' ? 'psql' : 'mariadb';
      terminals.getState().openClientTab(gateway.proxy, { ...gateway, program });
      ui.getState().showTerminals();
    },

    openThisDevice() {
      ui.getState().showDevice();
      void loadDevice();
    },

    refreshThisDevice: () => loadDevice(true),
  };
  const actions: AppActions = {
    ...base,
    ...createTabActions({
      session,
      terminals,
      gateways,
      ui,
      ...(reopen ? { reopen: reopen.store } : {}),
      closeTab: base.closeTab,
      logout: base.logout,
      selectTab: base.selectTab,
      selectGateway: base.selectGateway,
      warn,
    }),
  };

  return {
    api,
    session,
    servers,
    databases,
    apps,
    gateways,
    terminals,
    device,
    ui,
    ...(reopen ? { reopen: reopen.store } : {}),
    actions,
    dispose: () => {
      unsubscribe.forEach((off) => off());
      reopen?.dispose();
    },
  };
}
