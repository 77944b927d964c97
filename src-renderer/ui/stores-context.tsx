// Hands the app's stores to components (no module-level store: main.tsx builds them per window).
import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { AppStores } from '../stores/app-stores.ts';
import type { AppsState } from '../stores/apps-store.ts';
import type { DeviceState } from '../stores/device-store.ts';
import type { DatabasesState } from '../stores/databases-store.ts';
import type { GatewaysState } from '../stores/gateways-store.ts';
import type { ServersState } from '../stores/servers-store.ts';
import type { SessionState } from '../stores/session-store.ts';
import type { TerminalsState } from '../stores/terminals-store.ts';
import type { UiState } from '../stores/ui-store.ts';

const StoresContext = createContext<AppStores | null>(null);

export function StoresProvider({ stores, children }: { stores: AppStores; children: ReactNode }) {
  return <StoresContext.Provider value={stores}>{children}</StoresContext.Provider>;
}

export function useStores(): AppStores {
  const stores = useContext(StoresContext);
  if (!stores) throw new Error('useStores() outside <StoresProvider>');
  return stores;
}

// Selectors must return stable values (a field, or an object from the state itself):
// zustand 5 re-renders forever on a selector that builds a new object each time.
export const useSession = <T,>(select: (s: SessionState) => T): T => useStore(useStores().session, select);
export const useServers = <T,>(select: (s: ServersState) => T): T => useStore(useStores().servers, select);
export const useDatabases = <T,>(select: (s: DatabasesState) => T): T => useStore(useStores().databases, select);
export const useApps = <T,>(select: (s: AppsState) => T): T => useStore(useStores().apps, select);
export const useGateways = <T,>(select: (s: GatewaysState) => T): T => useStore(useStores().gateways, select);
export const useTerminals = <T,>(select: (s: TerminalsState) => T): T => useStore(useStores().terminals, select);
export const useUi = <T,>(select: (s: UiState) => T): T => useStore(useStores().ui, select);
export const useDevice = <T,>(select: (s: DeviceState) => T): T => useStore(useStores().device, select);
