// What the window shows that is not data: which main view, the resource kind filter, whether "Add cluster" was chosen
// while clusters exist, whether the connection to the app is gone, the pending "are you sure" question,
// the shortcuts dialog and requests to focus the resource search.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ResourceKind } from '../databases/database-filter.ts';

/** A question asked before ending sessions: closing a live terminal tab, logging out with tabs open. */
export type PendingConfirm =
  { kind: 'close-tab'; tabId: string; title: string } | { kind: 'logout'; proxy: string; clusterName: string };

export interface UiState {
  /** 'servers' is the resource browser (servers and databases); 'gateway' the active gateway tab. */
  view: 'servers' | 'terminals' | 'gateway' | 'device';
  /** The resource browser's kind filter. */
  resourceKind: ResourceKind;
  addingCluster: boolean;
  /** Set once the bridge to main is gone (browser host stopped); shown as a banner. */
  connectionLost?: string;
  /** Shown as a dialog until answered (see PendingConfirm). */
  confirm?: PendingConfirm;
  /** The "Keyboard shortcuts" dialog is open. */
  shortcutsOpen: boolean;
  /** Bumped to move focus into the resource search (Ctrl+K / Ctrl+T); the screen focuses on change. */
  searchFocusRequest: number;

  showServers(): void;
  showTerminals(): void;
  showGateway(): void;
  /** The "This device" screen. */
  showDevice(): void;
  setResourceKind(kind: ResourceKind): void;
  setAddingCluster(adding: boolean): void;
  setConnectionLost(message: string): void;
  askConfirm(confirm: PendingConfirm | undefined): void;
  setShortcutsOpen(open: boolean): void;
  /** Shows the resource browser with its search box focused. */
  focusSearch(): void;
}

export type UiStore = StoreApi<UiState>;

export function createUiStore(): UiStore {
  return createStore<UiState>()((set) => ({
    view: 'servers',
    shortcutsOpen: false,
    searchFocusRequest: 0,
    addingCluster: false,
    resourceKind: 'all',
    showServers: () => set({ view: 'servers' }),
    showTerminals: () => set({ view: 'terminals' }),
    showGateway: () => set({ view: 'gateway' }),
    showDevice: () => set({ view: 'device' }),
    setResourceKind: (kind) => set({ resourceKind: kind }),
    setAddingCluster: (adding) => set({ addingCluster: adding }),
    setConnectionLost: (message) => set({ connectionLost: message }),
    askConfirm: (confirm) => set({ confirm }),
    setShortcutsOpen: (open) => set({ shortcutsOpen: open }),
    focusSearch: () => set((s) => ({ view: 'servers', searchFocusRequest: s.searchFocusRequest + 1 })),
  }));
}
