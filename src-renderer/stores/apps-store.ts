// The apps per cluster (what the roles' app_labels let the user see), loaded beside the servers
// and databases; the resource browser filters all of them with the one search box.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { AppSummary, GatehouseApi, IpcError } from '../../src-main/ipc/contract.ts';
import { sortByName } from '../databases/database-filter.ts';
import { isSessionError } from './session-store.ts';

export interface AppList {
  /** 'loading' also while refreshing a list that is still shown. */
  status: 'loading' | 'ready' | 'failed';
  apps: AppSummary[];
  error?: IpcError;
}

export interface AppsState {
  byProxy: Record<string, AppList>;
  load(proxy: string): Promise<void>;
  forget(proxy: string): void;
}

export type AppsStore = StoreApi<AppsState>;

export function createAppsStore(deps: { api: GatehouseApi; onSessionExpired(proxy: string): void }): AppsStore {
  // Only the newest load per cluster may write its result (a slow old one must not win).
  const latestLoad = new Map<string, number>();
  let loads = 0;
  return createStore<AppsState>()((set, get) => ({
    byProxy: {},

    async load(proxy) {
      const ticket = ++loads;
      latestLoad.set(proxy, ticket);
      const previous = get().byProxy[proxy];
      set({ byProxy: { ...get().byProxy, [proxy]: { status: 'loading', apps: previous?.apps ?? [] } } });
      const result = await deps.api.resources.listApps({ proxy });
      if (latestLoad.get(proxy) !== ticket) return;
      const next: AppList = result.ok
        ? { status: 'ready', apps: sortByName(result.value) }
        : { status: 'failed', apps: previous?.apps ?? [], error: result.error };
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
