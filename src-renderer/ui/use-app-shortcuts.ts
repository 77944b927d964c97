// Listens for the app's keyboard shortcuts on the window (see shortcuts/keymap.ts) while the work
// area is shown. A terminal lets them through (xterm-session's key handler declines them), so
// they arrive here too; a modal dialog keeps the keyboard to itself.
import { useEffect } from 'react';
import { shortcutFor, type ShortcutAction } from '../shortcuts/keymap.ts';
import type { AppStores } from '../stores/app-stores.ts';

export function runShortcut(stores: Pick<AppStores, 'actions' | 'ui'>, action: ShortcutAction): void {
  const { actions, ui } = stores;
  switch (action.kind) {
    case 'new-tab':
    case 'search':
      ui.getState().focusSearch();
      break;
    case 'tab-at':
      actions.selectTabAt(action.n);
      break;
    case 'next-tab':
      actions.cycleTab(1);
      break;
    case 'previous-tab':
      actions.cycleTab(-1);
      break;
    case 'shortcuts':
      ui.getState().setShortcutsOpen(true);
      break;
  }
}

export function useAppShortcuts(stores: Pick<AppStores, 'actions' | 'ui'>): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || document.querySelector('dialog[open]')) return;
      const inTerminal = e.target instanceof Element && e.target.closest('.xterm') !== null;
      const action = shortcutFor(e, inTerminal);
      if (!action) return;
      e.preventDefault();
      runShortcut(stores, action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [stores]);
}
