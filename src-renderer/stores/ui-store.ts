// What the window shows that is not data: which main view, whether "Add cluster" was chosen
// while clusters exist, and whether the connection to the app is gone.
import { createStore, type StoreApi } from 'zustand/vanilla';

export interface UiState {
  view: 'servers' | 'terminals';
  addingCluster: boolean;
  /** Set once the bridge to main is gone (browser host stopped); shown as a banner. */
  connectionLost?: string;

  showServers(): void;
  showTerminals(): void;
  setAddingCluster(adding: boolean): void;
  setConnectionLost(message: string): void;
}

export type UiStore = StoreApi<UiState>;

export function createUiStore(): UiStore {
  return createStore<UiState>()((set) => ({
    view: 'servers',
    addingCluster: false,
    showServers: () => set({ view: 'servers' }),
    showTerminals: () => set({ view: 'terminals' }),
    setAddingCluster: (adding) => set({ addingCluster: adding }),
    setConnectionLost: (message) => set({ connectionLost: message }),
  }));
}
