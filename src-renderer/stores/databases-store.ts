// The databases per cluster (what the roles let the user see), loaded beside the servers; the
// resource browser filters both with the one search box.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DatabaseSummary, GatehouseApi, IpcError } from '../../src-main/ipc/contract.ts';
import { sortByName } from '../databases/database-filter.ts';
import { isSessionError } from './session-store.ts';

export interface DatabaseList {
  /** 'loading' also while refreshing a list that is still shown. */
  status: 'loading' | 'ready' | 'failed';
  databases: DatabaseSummary[];
  error?: IpcError;
}

export interface DatabasesState {
  byProxy: Record<string, DatabaseList>;
  load(proxy: string): Promise<void>;
  forget(proxy: string): void;
}

export type DatabasesStore = StoreApi<DatabasesState>;

export function createDatabasesStore(deps: {
  api: GatehouseApi;
  onSessionExpired(proxy: string): void;
}): DatabasesStore {
  // Only the newest load per cluster may write its result (a slow old one must not win).
  const latestLoad = new Map<string, number>();
  let loads = 0;
  return createStore<DatabasesState>()((set, get) => ({
    byProxy: {},

    async load(proxy) {
      const ticket = ++loads;
      latestLoad.set(proxy, ticket);
      const previous = get().byProxy[proxy];
      set({ byProxy: { ...get().byProxy, [proxy]: { status: 'loading', databases: previous?.databases ?? [] } } });
      const result = await deps.api.resources.listDatabases({ proxy });
      if (latestLoad.get(proxy) !== ticket) return;
      const next: DatabaseList = result.ok
        ? { status: 'ready', databases: sortByName(result.value) }
        : { status: 'failed', databases: previous?.databases ?? [], error: result.error };
      set({ byProxy: { ...get().byProxy, [proxy]: next } });
      if (!result.ok && isSessionError(result.error)) deps.onSessionExpired(proxy);
    },

    forget(proxy) {
      latestLoad.delete(proxy);
      const { [proxy]: _gone, ...rest } = get().byProxy;
      set({ byProxy: rest });
    },
  }));
}
