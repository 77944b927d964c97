// The local gateways (databases, apps) main holds for this app, as tabs. Main owns them (they outlive a
// renderer reload: load() lists them again); this store mirrors main's `gateways.status` /
// `gateways.closed` events and does the IPC for create, port changes and close.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { GatehouseApi, GatewaySummary, IpcError, IpcResult, RequestInput } from '../../src-main/ipc/contract.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import { isSessionError } from './session-store.ts';

export interface GatewayTab {
  gateway: GatewaySummary;
  /** A port change or close main refused (shown in the tab until the next attempt). */
  actionError?: IpcError;
  busy: boolean;
}

export interface GatewaysState {
  tabs: GatewayTab[];
  activeGatewayId?: string;

  /** Lists main's gateways (at start and after a reload); keeps the active one if it still exists. */
  load(): Promise<void>;
  /** Opens a gateway; on success it becomes a tab (active), on failure the error is returned. */
  create(input: RequestInput<'gateways.createDb'>): Promise<Created>;
  /** Opens (or finds the open) gateway to an app; a tab as create(). */
  createApp(input: RequestInput<'gateways.createApp'>): Promise<Created>;
  setPort(id: string, port: number): Promise<boolean>;
  /** Opens a web app's gateway in the browser (main does, or `openUrl` when main cannot); false on failure (shown in the tab). */
  launch(id: string): Promise<boolean>;
  close(id: string): Promise<void>;
  activate(id: string): void;
  /** Drops the tabs of a cluster (main closed them when it was logged out of). */
  forgetCluster(proxy: string): void;
  handleStatus(gateway: GatewaySummary): void;
  handleClosed(id: string): void;
}

export type GatewaysStore = StoreApi<GatewaysState>;

type Created = { ok: true; id: string } | { ok: false; error: IpcError };

export interface GatewaysStoreDeps {
  api: GatehouseApi;
  onSessionExpired(proxy: string): void;
  /**
   * Opens a URL in a new browser tab: what Launch does when main cannot open the browser itself
   * (the browser host, where this renderer is a tab of the user's browser).
   */
  openUrl?(url: string): void;
}

/** "127.0.0.1:5432": where to point a client. */
export const gatewayAddress = (g: Pick<GatewaySummary, 'localAddress' | 'localPort'>) =>
  `${g.localAddress}:${g.localPort}`;

/** The tab's name: "alice@orders" (db user at the database resource) or the app's name ("grafana"). */
export const gatewayTitle = (g: GatewaySummary) => (g.kind === 'app' ? g.app : `${g.dbUser}@${g.database}`);

export function createGatewaysStore({ api, onSessionExpired, openUrl }: GatewaysStoreDeps): GatewaysStore {
  return createStore<GatewaysState>()((set, get) => {
    const update = (id: string, change: (t: GatewayTab) => GatewayTab) =>
      set({ tabs: get().tabs.map((t) => (t.gateway.id === id ? change(t) : t)) });
    const remove = (id: string) => {
      const tabs = get().tabs;
      const index = tabs.findIndex((t) => t.gateway.id === id);
      if (index < 0) return;
      const rest = tabs.filter((t) => t.gateway.id !== id);
      let active = get().activeGatewayId;
      if (active === id) active = (rest[index] ?? rest[index - 1])?.gateway.id;
      set({ tabs: rest, activeGatewayId: active });
    };

    /** A created gateway becomes the active tab; a session error marks the session expired. */
    const opened = (proxy: string, result: IpcResult<GatewaySummary>): Created => {
      if (!result.ok) {
        if (isSessionError(result.error)) onSessionExpired(proxy);
        return { ok: false, error: result.error };
      }
      get().handleStatus(result.value);
      set({ activeGatewayId: result.value.id });
      return { ok: true, id: result.value.id };
    };

    return {
      tabs: [],
      activeGatewayId: undefined,

      async load() {
        const result = await api.gateways.list({});
        if (!result.ok) return;
        const known = new Map(get().tabs.map((t) => [t.gateway.id, t]));
        const tabs = result.value.map((g) => ({ ...(known.get(g.id) ?? { busy: false }), gateway: g }));
        const active = tabs.some((t) => t.gateway.id === get().activeGatewayId) ? get().activeGatewayId : undefined;
        set({ tabs, activeGatewayId: active });
      },

      async create(input) {
        return opened(input.proxy, await api.gateways.createDb(input));
      },

      async createApp(input) {
        return opened(input.proxy, await api.gateways.createApp(input));
      },

      async setPort(id, port) {
        if (!get().tabs.some((t) => t.gateway.id === id)) return false;
        update(id, ({ actionError: _cleared, ...t }) => ({ ...t, busy: true }));
        const result = await api.gateways.setPort({ gatewayId: id, port });
        update(id, (t) =>
          result.ok ? { gateway: result.value, busy: false } : { ...t, busy: false, actionError: result.error },
        );
        return result.ok;
      },

      async launch(id) {
        if (!get().tabs.some((t) => t.gateway.id === id)) return false;
        update(id, ({ actionError: _cleared, ...t }) => t);
        const result = await api.gateways.launchApp({ gatewayId: id });
        if (!result.ok) {
          update(id, (t) => ({ ...t, actionError: result.error }));
          return false;
        }
        if (!result.value.opened) {
          if (!openUrl) {
            const message = `open ${result.value.url} in your browser`;
            update(id, (t) => ({ ...t, actionError: { code: ErrorCode.INTERNAL, message } }));
            return false;
          }
          openUrl(result.value.url);
        }
        return true;
      },

      async close(id) {
        update(id, (t) => ({ ...t, busy: true }));
        const result = await api.gateways.close({ gatewayId: id });
        // Already gone in main (closed with its cluster, or main restarted): the tab goes too.
        if (result.ok || result.error.code === ErrorCode.NOT_FOUND) remove(id);
        else update(id, (t) => ({ ...t, busy: false, actionError: result.error }));
      },

      activate(id) {
        if (get().tabs.some((t) => t.gateway.id === id)) set({ activeGatewayId: id });
      },

      forgetCluster(proxy) {
        for (const t of get().tabs.filter((x) => x.gateway.proxy === proxy)) remove(t.gateway.id);
      },

      handleStatus(gateway) {
        if (get().tabs.some((t) => t.gateway.id === gateway.id)) update(gateway.id, (t) => ({ ...t, gateway }));
        else set({ tabs: [...get().tabs, { gateway, busy: false }] });
      },

      handleClosed(id) {
        remove(id);
      },
    };
  });
}
