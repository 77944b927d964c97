// Terminal tabs and the life of the remote session behind each one. The xterm widget lives in the
// React component; this store does the IPC (open, resize, close), follows `terminals.exit`, and
// keeps a tab after its session ends so the person can read the output and reconnect.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { EventPayloads, GatehouseApi, IpcError } from '../../src-main/ipc/contract.ts';
import { sessionEndText, type SessionEndContext } from '../terminals/session-end.ts';
import { isSessionError } from './session-store.ts';

export type TabState =
  /** Waiting for the terminal widget's size, then for main to open the shell. */
  | { kind: 'connecting' }
  | { kind: 'open'; terminalId: string }
  /** terminalId stays so output that trails the exit event still reaches the screen. */
  | { kind: 'ended'; terminalId: string; exitCode: number | null; signal?: string; error?: IpcError }
  /** The shell could not be opened at all (denied, unreachable, expired...). */
  | { kind: 'failed'; error: IpcError };

export interface TerminalTab {
  id: string;
  proxy: string;
  node: string;
  login: string;
  /** Set for a tab running a gateway's database client (psql, mariadb) on this computer. */
  gatewayId?: string;
  /** That client's program name, for the words when it exits. */
  program?: string;
  /** `<login>@<node>` (see uniqueTitle): the tab's accessible name. */
  title: string;
  /** Bumped by reconnect; the widget starts a fresh session (and clears the screen) per attempt. */
  attempt: number;
  state: TabState;
}

export interface TerminalsState {
  tabs: TerminalTab[];
  activeTabId?: string;

  /** Adds a tab in 'connecting' and makes it active; the widget calls start() once it has a size. */
  openTab(proxy: string, node: string, login: string): string;
  /** A tab running the database client of a gateway ("psql alice@orders"); started like openTab's. */
  openClientTab(proxy: string, gateway: { id: string; database: string; dbUser: string; program: string }): string;
  /** Opens the remote shell for the tab's current attempt (a second call per attempt is ignored). */
  start(tabId: string, cols: number, rows: number): Promise<void>;
  resize(tabId: string, cols: number, rows: number): void;
  reconnect(tabId: string): void;
  /** Ends the session (if still running) and removes the tab; returns the tab made active. */
  closeTab(tabId: string): string | undefined;
  /** Closes every tab of a cluster (after logging out of it). */
  closeCluster(proxy: string): void;
  activate(tabId: string): void;
  handleExit(payload: EventPayloads['terminals.exit']): void;
}

export type TerminalsStore = StoreApi<TerminalsState>;

export interface TerminalsStoreDeps {
  api: GatehouseApi;
  onSessionExpired(proxy: string): void;
  /** Where failures that nobody waits for go (a resize or close that main refused). */
  warn?(message: string): void;
}

/** Why the tab's session ended, in words (see sessionEndText). */
export function exitSummary(state: Extract<TabState, { kind: 'ended' }>, context: SessionEndContext = {}): string {
  return sessionEndText(state, context);
}

/**
 * `<login>@<node>`, or with " (2)", " (3)"… when that server already has a tab open under that
 * login, so every tab, close button and panel keeps a name of its own.
 */
export function uniqueTitle(base: string, tabs: readonly TerminalTab[]): string {
  const taken = new Set(tabs.map((t) => t.title));
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base} (${n})`)) n++;
  return `${base} (${n})`;
}

export function createTerminalsStore({ api, onSessionExpired, warn = () => {} }: TerminalsStoreDeps): TerminalsStore {
  let seq = 0;
  const startedAttempt = new Map<string, number>();
  const size = new Map<string, { cols: number; rows: number }>();
  // An exit can overtake the open() result it belongs to; keep it until that result arrives.
  // Only kept while an open() is in flight, so exits of tabs closed earlier don't pile up.
  const earlyExits = new Map<string, EventPayloads['terminals.exit']>();
  let opening = 0;

  return createStore<TerminalsState>()((set, get) => {
    const tab = (id: string) => get().tabs.find((t) => t.id === id);
    const update = (id: string, change: (t: TerminalTab) => TerminalTab) =>
      set({ tabs: get().tabs.map((t) => (t.id === id ? change(t) : t)) });
    const endedState = (p: EventPayloads['terminals.exit']): TabState => ({
      kind: 'ended',
      terminalId: p.terminalId,
      exitCode: p.exitCode,
      ...(p.signal ? { signal: p.signal } : {}),
      ...(p.error ? { error: p.error } : {}),
    });
    const closeRemote = (terminalId: string) => {
      void api.terminals.close({ terminalId }).then((r) => {
        if (!r.ok) warn(`closing ${terminalId}: ${r.error.message}`);
      });
    };

    return {
      tabs: [],
      activeTabId: undefined,

      openTab(proxy, node, login) {
        const id = `tab${++seq}`;
        const added: TerminalTab = {
          id,
          proxy,
          node,
          login,
          title: uniqueTitle(`${login}@${node}`, get().tabs),
          attempt: 1,
          state: { kind: 'connecting' },
        };
        set({ tabs: [...get().tabs, added], activeTabId: id });
        return id;
      },

      openClientTab(proxy, gateway) {
        const id = `tab${++seq}`;
        const added: TerminalTab = {
          id,
          proxy,
          node: gateway.database,
          login: gateway.dbUser,
          gatewayId: gateway.id,
          program: gateway.program,
          title: uniqueTitle(`${gateway.program} ${gateway.dbUser}@${gateway.database}`, get().tabs),
          attempt: 1,
          state: { kind: 'connecting' },
        };
        set({ tabs: [...get().tabs, added], activeTabId: id });
        return id;
      },

      async start(tabId, cols, rows) {
        const t = tab(tabId);
        if (!t || t.state.kind !== 'connecting' || startedAttempt.get(tabId) === t.attempt) return;
        const attempt = t.attempt;
        startedAttempt.set(tabId, attempt);
        size.set(tabId, { cols, rows });
        opening++;
        const result = t.gatewayId
          ? await api.gateways.runClient({ gatewayId: t.gatewayId, cols, rows })
          : await api.terminals.open({ proxy: t.proxy, node: t.node, login: t.login, cols, rows });
        opening--;
        const now = tab(tabId);
        if (!now || now.attempt !== attempt) {
          // Closed or restarted meanwhile: this session has no tab to show it.
          if (result.ok) closeRemote(result.value.terminalId);
          return;
        }
        if (!result.ok) {
          update(tabId, (x) => ({ ...x, state: { kind: 'failed', error: result.error } }));
          if (isSessionError(result.error)) onSessionExpired(t.proxy);
          return;
        }
        const { terminalId } = result.value;
        const early = earlyExits.get(terminalId);
        earlyExits.delete(terminalId);
        if (opening === 0) earlyExits.clear();
        if (early) {
          update(tabId, (x) => ({ ...x, state: endedState(early) }));
          return;
        }
        update(tabId, (x) => ({ ...x, state: { kind: 'open', terminalId } }));
        const latest = size.get(tabId);
        if (latest && (latest.cols !== cols || latest.rows !== rows)) get().resize(tabId, latest.cols, latest.rows);
      },

      resize(tabId, cols, rows) {
        size.set(tabId, { cols, rows });
        const t = tab(tabId);
        if (t?.state.kind !== 'open') return;
        void api.terminals.resize({ terminalId: t.state.terminalId, cols, rows }).then((r) => {
          if (!r.ok) warn(`resizing ${t.title}: ${r.error.message}`);
        });
      },

      reconnect(tabId) {
        const t = tab(tabId);
        if (!t || t.state.kind === 'connecting') return;
        if (t.state.kind === 'open') closeRemote(t.state.terminalId);
        update(tabId, (x) => ({ ...x, attempt: x.attempt + 1, state: { kind: 'connecting' } }));
      },

      closeTab(tabId) {
        const tabs = get().tabs;
        const index = tabs.findIndex((t) => t.id === tabId);
        if (index < 0) return get().activeTabId;
        const t = tabs[index]!;
        if (t.state.kind === 'open') closeRemote(t.state.terminalId);
        startedAttempt.delete(tabId);
        size.delete(tabId);
        const rest = tabs.filter((x) => x.id !== tabId);
        let active = get().activeTabId;
        if (active === tabId) active = (rest[index] ?? rest[index - 1])?.id;
        set({ tabs: rest, activeTabId: active });
        return active;
      },

      closeCluster(proxy) {
        for (const t of get().tabs.filter((x) => x.proxy === proxy)) get().closeTab(t.id);
      },

      activate(tabId) {
        if (tab(tabId)) set({ activeTabId: tabId });
      },

      handleExit(payload) {
        const t = get().tabs.find((x) => x.state.kind === 'open' && x.state.terminalId === payload.terminalId);
        if (!t) {
          if (opening > 0) earlyExits.set(payload.terminalId, payload);
          return;
        }
        update(t.id, (x) => ({ ...x, state: endedState(payload) }));
        if (payload.error && isSessionError(payload.error)) onSessionExpired(t.proxy);
      },
    };
  });
}
