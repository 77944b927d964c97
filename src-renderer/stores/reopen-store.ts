// "Reopen tabs" after a page reload or an app restart. The open tabs' descriptors are remembered
// per cluster as they change (TabMemory); what was remembered before this window started is
// offered once, while logged in to that cluster, until the person picks "Reopen tabs" or "Not now".
// Until then the offer stays remembered too, so a window closed before deciding offers it again.
import { createStore, type StoreApi } from 'zustand/vanilla';
import { describeTabs, sameTarget, type TabDescriptor, type TabMemory } from '../terminals/tab-memory.ts';
import type { GatewaysStore } from './gateways-store.ts';
import type { TerminalsStore } from './terminals-store.ts';

export interface ReopenState {
  /** Per cluster: the tabs remembered from before this window started, not yet decided on. */
  offers: Record<string, TabDescriptor[]>;
  /** Reads the cluster's remembered tabs into `offers` (once per cluster and window). */
  loadOffer(proxy: string): void;
  /** "Not now", or after reopening: the offer is gone, the memory is what is open now. */
  dismiss(proxy: string): void;
}

export type ReopenStore = StoreApi<ReopenState>;

/** The offered tabs that are not open already (gateways live in main and survive a reload). */
export function pendingReopen(
  state: Pick<ReopenState, 'offers'>,
  proxy: string,
  open: ReadonlyMap<string, TabDescriptor[]>,
): TabDescriptor[] {
  const current = open.get(proxy) ?? [];
  return (state.offers[proxy] ?? []).filter((d) => !current.some((c) => sameTarget(c, d)));
}

export function createReopenStore(
  memory: TabMemory,
  terminals: TerminalsStore,
  gateways: GatewaysStore,
): { store: ReopenStore; dispose(): void } {
  const loaded = new Set<string>();
  // Clusters whose memory holds something, so a cluster whose last tab closed is cleared.
  const remembered = new Set<string>();
  const openNow = () =>
    describeTabs(
      terminals.getState().tabs,
      gateways.getState().tabs.map((t) => t.gateway),
    );

  const store = createStore<ReopenState>()((set, get) => ({
    offers: {},
    loadOffer(proxy) {
      if (loaded.has(proxy)) return;
      loaded.add(proxy);
      const offer = memory.read(proxy);
      if (offer.length === 0) return;
      remembered.add(proxy);
      set({ offers: { ...get().offers, [proxy]: offer } });
    },
    dismiss(proxy) {
      const { [proxy]: _gone, ...rest } = get().offers;
      set({ offers: rest });
      remember(proxy, openNow().get(proxy) ?? []);
    },
  }));

  const remember = (proxy: string, open: TabDescriptor[]) => {
    // Read before the first write, or the empty tab strip of a fresh window would erase the memory.
    store.getState().loadOffer(proxy);
    const offer = store.getState().offers[proxy] ?? [];
    const tabs = [...offer.filter((d) => !open.some((o) => sameTarget(o, d))), ...open];
    memory.write(proxy, tabs);
    if (tabs.length > 0) remembered.add(proxy);
    else remembered.delete(proxy);
  };
  const rememberAll = () => {
    const open = openNow();
    for (const proxy of new Set([...open.keys(), ...remembered])) remember(proxy, open.get(proxy) ?? []);
  };

  const unsubscribe = [
    terminals.subscribe((s, prev) => {
      if (s.tabs !== prev.tabs) rememberAll();
    }),
    gateways.subscribe((s, prev) => {
      if (s.tabs !== prev.tabs) rememberAll();
    }),
  ];
  return { store, dispose: () => unsubscribe.forEach((off) => off()) };
}
