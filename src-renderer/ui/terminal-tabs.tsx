// The tab strip: role="tablist", a tab "<login>@<node>" per terminal and next to it (not inside,
// so the tab's name stays exactly "<login>@<node>") its "Close <login>@<node>" button; then a tab
// "Gateway <db user>@<database>" per database gateway with "Close gateway <db user>@<database>"
// ("Gateway <app>" for an app's).
// Arrow keys move between tabs (roving tabindex); Delete closes the focused one (asking first while
// its session is live).
import { useRef, type KeyboardEvent } from 'react';
import { gatewayTitle } from '../stores/gateways-store.ts';
import type { TerminalTab } from '../stores/terminals-store.ts';
import { AppIcon, CloseIcon, DatabaseIcon } from './icons.tsx';
import { useGateways, useStores, useTerminals, useUi } from './stores-context.tsx';

export const TERMINAL_KEYS_HINT_ID = 'terminal-keys-hint';

/** One entry of the strip, terminal or gateway, with what the strip needs to draw and drive it. */
interface StripItem {
  id: string;
  /** The tab's accessible name. */
  name: string;
  /** What the tab shows (the name may add a hidden prefix). */
  label: string;
  dot: string;
  status: string;
  selected: boolean;
  closeLabel: string;
  gateway: boolean;
  /** Which icon a gateway tab shows. */
  gatewayKind?: 'db' | 'app';
  select(): void;
  close(): void;
}

const stateLabel: Record<TerminalTab['state']['kind'], string> = {
  connecting: 'connecting',
  open: 'connected',
  ended: 'ended',
  failed: 'failed',
};

export function TerminalTabs() {
  const { actions } = useStores();
  const tabs = useTerminals((s) => s.tabs);
  const activeId = useTerminals((s) => s.activeTabId);
  const gatewayTabs = useGateways((s) => s.tabs);
  const activeGatewayId = useGateways((s) => s.activeGatewayId);
  const view = useUi((s) => s.view);
  const refs = useRef(new Map<string, HTMLButtonElement>());
  const items: StripItem[] = [
    ...tabs.map((tab) => ({
      id: tab.id,
      name: tab.title,
      label: tab.title,
      dot: tab.state.kind,
      status: stateLabel[tab.state.kind],
      selected: view === 'terminals' && tab.id === activeId,
      closeLabel: `Close ${tab.title}`,
      gateway: false,
      select: () => actions.selectTab(tab.id),
      close: () => actions.requestCloseTab(tab.id),
    })),
    ...gatewayTabs.map(({ gateway }) => ({
      id: gateway.id,
      name: `Gateway ${gatewayTitle(gateway)}`,
      label: gatewayTitle(gateway),
      dot: gateway.connections > 0 ? 'open' : 'idle',
      status: `${gateway.connections} connected`,
      selected: view === 'gateway' && gateway.id === activeGatewayId,
      closeLabel: `Close gateway ${gatewayTitle(gateway)}`,
      gateway: true,
      gatewayKind: gateway.kind,
      select: () => actions.selectGateway(gateway.id),
      close: () => void actions.closeGateway(gateway.id),
    })),
  ];
  if (items.length === 0) return null;

  const focusTab = (i: number) => {
    const t = items[(i + items.length) % items.length]!;
    t.select();
    refs.current.get(t.id)?.focus();
  };
  const onKey = (e: KeyboardEvent, i: number, item: StripItem) => {
    const moves: Record<string, number> = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: items.length - 1 };
    if (e.key in moves) {
      e.preventDefault();
      focusTab(moves[e.key]!);
    } else if (e.key === 'Delete') {
      e.preventDefault();
      item.close();
    }
  };
  // The tab that takes part in Tab-key order: the selected one, else the first.
  const focusable = (items.find((t) => t.selected) ?? items[0]!).id;

  return (
    <div className="tab-strip">
      <div role="tablist" aria-label="Open tabs" className="tablist">
        {items.map((item, i) => (
          <div key={item.id} className={`tab${item.selected ? ' tab-selected' : ''}`} role="presentation">
            <button
              ref={(el) => {
                if (el) refs.current.set(item.id, el);
                else refs.current.delete(item.id);
              }}
              type="button"
              role="tab"
              id={`tab-${item.id}`}
              aria-selected={item.selected}
              aria-controls={`panel-${item.id}`}
              tabIndex={item.id === focusable ? 0 : -1}
              className="tab-button"
              title={`${item.name} (${item.status})`}
              onClick={() => {
                item.select();
                // A click on a terminal means "work in it": focus it once its panel is shown.
                if (!item.gateway)
                  requestAnimationFrame(() =>
                    document.querySelector<HTMLElement>(`#panel-${item.id} .xterm-helper-textarea`)?.focus(),
                  );
              }}
              onKeyDown={(e) => onKey(e, i, item)}
            >
              <span className={`tab-dot tab-dot-${item.dot}`} aria-hidden="true" />
              {item.gatewayKind === 'db' && <DatabaseIcon size={14} />}
              {item.gatewayKind === 'app' && <AppIcon size={14} />}
              {item.gateway && <span className="visually-hidden">Gateway </span>}
              {item.label}
            </button>
            <button
              type="button"
              className="tab-close"
              aria-label={item.closeLabel}
              title={item.closeLabel}
              onClick={item.close}
            >
              <CloseIcon />
            </button>
          </div>
        ))}
      </div>
      {tabs.length > 0 && (
        <p id={TERMINAL_KEYS_HINT_ID} className="terminal-keys">
          <kbd>Ctrl+Shift+C</kbd> copy <span aria-hidden="true">·</span> <kbd>Ctrl+Shift+V</kbd> paste{' '}
          <span aria-hidden="true">·</span> <kbd>Ctrl+Shift+↑</kbd> leave the terminal <span aria-hidden="true">·</span>{' '}
          <kbd>Ctrl+Shift+/</kbd> all shortcuts
        </p>
      )}
    </div>
  );
}
