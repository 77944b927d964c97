// What the window shows that is not data: which main view, the resource kind filter, whether "Add cluster" was chosen
// while clusters exist, and whether the connection to the app is gone.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ResourceKind } from '../databases/database-filter.ts';

export interface UiState {
  /** 'servers' is the resource browser (servers and databases); 'gateway' the active gateway tab. */
  view: 'servers' | 'terminals' | 'gateway' | 'device';
  /** The resource browser's kind filter. */
  resourceKind: ResourceKind;
  addingCluster: boolean;
  /** Set once the bridge to main is gone (browser host stopped); shown as a banner. */
  connectionLost?: string;

  showServers(): void;
  showTerminals(): void;
  showGateway(): void;
  /** The "This device" screen. */
  showDevice(): void;
  setResourceKind(kind: ResourceKind): void;
  setAddingCluster(adding: boolean): void;
  setConnectionLost(message: string): void;
}

export type UiStore = StoreApi<UiState>;

export function createUiStore(): UiStore {
  return createStore<UiState>()((set) => ({
    view: 'servers',
    addingCluster: false,
    resourceKind: 'all',
    showServers: () => set({ view: 'servers' }),
    showTerminals: () => set({ view: 'terminals' }),
    showGateway: () => set({ view: 'gateway' }),
    showDevice: () => set({ view: 'device' }),
    setResourceKind: (kind) => set({ resourceKind: kind }),
    setAddingCluster: (adding) => set({ addingCluster: adding }),
    setConnectionLost: (message) => set({ connectionLost: message }),
  }));
}
