// The server list per cluster, the search text per cluster (one cluster's search must not filter
// another's resources after a switch) and the login picked per server.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { GatehouseApi, IpcError, ServerSummary } from '../../src-main/ipc/contract.ts';
import { sortServers } from '../servers/server-filter.ts';
import { isSessionError } from './session-store.ts';

export interface ServerList {
  /** 'loading' also while refreshing a list that is still shown. */
  status: 'loading' | 'ready' | 'failed';
  servers: ServerSummary[];
  error?: IpcError;
}

export interface ServersState {
  byProxy: Record<string, ServerList>;
  /** The resource search text per cluster (servers, databases and apps share the one box). */
  queryByProxy: Record<string, string>;
  /** Chosen login per `proxy\nserver`; unset means the server's default (its first login). */
  chosenLogin: Record<string, string>;

  load(proxy: string): Promise<void>;
  setQuery(proxy: string, query: string): void;
  chooseLogin(proxy: string, server: string, login: string): void;
  forget(proxy: string): void;
}

export type ServersStore = StoreApi<ServersState>;

export interface ServersStoreDeps {
  api: GatehouseApi;
  onSessionExpired(proxy: string): void;
}

const loginKey = (proxy: string, server: string) => `${proxy}\n${server}`;

/** The search text of a cluster's resource browser ('' when none was typed there). */
export function queryFor(state: Pick<ServersState, 'queryByProxy'>, proxy: string): string {
  return state.queryByProxy[proxy] ?? '';
}

/** The login the "Log in as on <name>" box shows for a server. */
export function loginFor(state: Pick<ServersState, 'chosenLogin'>, proxy: string, server: ServerSummary): string {
  const chosen = state.chosenLogin[loginKey(proxy, server.name)];
  return chosen !== undefined && server.logins.includes(chosen) ? chosen : (server.logins[0] ?? '');
}

export function createServersStore({ api, onSessionExpired }: ServersStoreDeps): ServersStore {
  // Only the newest load per cluster may write its result (a slow old one must not win).
  const latestLoad = new Map<string, number>();
  let loads = 0;
  return createStore<ServersState>()((set, get) => ({
    byProxy: {},
    queryByProxy: {},
    chosenLogin: {},

    async load(proxy) {
      const ticket = ++loads;
      latestLoad.set(proxy, ticket);
      const previous = get().byProxy[proxy];
      set({ byProxy: { ...get().byProxy, [proxy]: { status: 'loading', servers: previous?.servers ?? [] } } });
      const result = await api.resources.listServers({ proxy });
      if (latestLoad.get(proxy) !== ticket) return;
      const next: ServerList = result.ok
        ? { status: 'ready', servers: sortServers(result.value) }
        : { status: 'failed', servers: previous?.servers ?? [], error: result.error };
      set({ byProxy: { ...get().byProxy, [proxy]: next } });
      if (!result.ok && isSessionError(result.error)) onSessionExpired(proxy);
    },

    setQuery(proxy, query) {
      set({ queryByProxy: { ...get().queryByProxy, [proxy]: query } });
    },

    chooseLogin(proxy, server, login) {
      set({ chosenLogin: { ...get().chosenLogin, [loginKey(proxy, server)]: login } });
    },

    forget(proxy) {
      latestLoad.delete(proxy);
      const { [proxy]: _gone, ...rest } = get().byProxy;
      const { [proxy]: _query, ...queries } = get().queryByProxy;
      set({ byProxy: rest, queryByProxy: queries });
    },
  }));
}
