// The tab strip: role="tablist", a tab "<login>@<node>" per terminal and next to it (not inside,
// so the tab's name stays exactly "<login>@<node>") its "Close <login>@<node>" button.
// Arrow keys move between tabs (roving tabindex); Delete closes the focused one.
import { useRef, type KeyboardEvent } from 'react';
import type { TerminalTab } from '../stores/terminals-store.ts';
import { CloseIcon } from './icons.tsx';
import { useStores, useTerminals, useUi } from './stores-context.tsx';

export const TERMINAL_KEYS_HINT_ID = 'terminal-keys-hint';

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
  const view = useUi((s) => s.view);
  const refs = useRef(new Map<string, HTMLButtonElement>());
  if (tabs.length === 0) return null;

  const focusTab = (i: number) => {
    const t = tabs[(i + tabs.length) % tabs.length]!;
    actions.selectTab(t.id);
    refs.current.get(t.id)?.focus();
  };
  const onKey = (e: KeyboardEvent, i: number, tab: TerminalTab) => {
    const moves: Record<string, number> = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 };
    if (e.key in moves) {
      e.preventDefault();
      focusTab(moves[e.key]!);
    } else if (e.key === 'Delete') {
      e.preventDefault();
      actions.closeTab(tab.id);
    }
  };
  // The tab that takes part in Tab-key order: the active one, else the first.
  const focusable = tabs.some((t) => t.id === activeId) ? activeId : tabs[0]!.id;

  return (
    <div className="tab-strip">
      <div role="tablist" aria-label="Terminals" className="tablist">
        {tabs.map((tab, i) => {
          const selected = view === 'terminals' && tab.id === activeId;
          return (
            <div key={tab.id} className={`tab${selected ? ' tab-selected' : ''}`} role="presentation">
              <button
                ref={(el) => {
                  if (el) refs.current.set(tab.id, el);
                  else refs.current.delete(tab.id);
                }}
                type="button"
                role="tab"
                id={`tab-${tab.id}`}
                aria-selected={selected}
                aria-controls={`panel-${tab.id}`}
                tabIndex={tab.id === focusable ? 0 : -1}
                className="tab-button"
                title={`${tab.title} (${stateLabel[tab.state.kind]})`}
                onClick={() => {
                  actions.selectTab(tab.id);
                  // A click means "work in this terminal": focus it once its panel is shown.
                  requestAnimationFrame(() =>
                    document.querySelector<HTMLElement>(`#panel-${tab.id} .xterm-helper-textarea`)?.focus(),
                  );
                }}
                onKeyDown={(e) => onKey(e, i, tab)}
              >
                <span className={`tab-dot tab-dot-${tab.state.kind}`} aria-hidden="true" />
                {tab.title}
              </button>
              <button
                type="button"
                className="tab-close"
                aria-label={`Close ${tab.title}`}
                title={`Close ${tab.title}`}
                onClick={() => actions.closeTab(tab.id)}
              >
                <CloseIcon />
              </button>
            </div>
          );
        })}
      </div>
      <p id={TERMINAL_KEYS_HINT_ID} className="terminal-keys">
        <kbd>Ctrl+Shift+C</kbd> copy <span aria-hidden="true">·</span> <kbd>Ctrl+Shift+V</kbd> paste{' '}
        <span aria-hidden="true">·</span> <kbd>Ctrl+Shift+↑</kbd> leave the terminal
      </p>
    </div>
  );
}
