// The app's keyboard shortcuts: which key press means what, and the list the "Keyboard shortcuts"
// dialog shows. Pure, so the mapping is tested without a DOM.
//
// Inside a terminal most Ctrl keys belong to the shell: readline uses Ctrl+T (swap characters),
// Ctrl+K (delete to the end of the line) and Ctrl+/ (undo). There the app takes only keys a shell
// gets nothing from (Ctrl+Tab, Ctrl+1…9) and the Shift variants Ctrl+Shift+T / K / ? (terminals
// send the same control code with or without Shift, so the shell loses nothing).

export type ShortcutAction =
  | { kind: 'new-tab' }
  | { kind: 'search' }
  | { kind: 'tab-at'; n: number }
  | { kind: 'next-tab' }
  | { kind: 'previous-tab' }
  | { kind: 'shortcuts' };

/** The fields of a KeyboardEvent the mapping reads. */
export interface KeyPress {
  key: string;
  code: string;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}

/**
 * The physical key (layout-independent, so Ctrl+K is Ctrl+K on any keyboard). A synthesized press
 * (the Electron Go menu's sendInputEvent) may come without one: then it is derived from the key.
 */
function codeOf(e: KeyPress): string {
  if (e.code) return e.code;
  if (/^[a-z]$/i.test(e.key)) return `Key${e.key.toUpperCase()}`;
  if (/^[0-9]$/.test(e.key)) return `Digit${e.key}`;
  if (e.key === '/' || e.key === '?') return 'Slash';
  return e.key;
}

/** What a key press means to the app, or undefined when it is not an app shortcut (there). */
export function shortcutFor(e: KeyPress, inTerminal: boolean): ShortcutAction | undefined {
  const code = codeOf(e);
  // Ctrl, or Cmd on macOS (the Go menu shows CmdOrCtrl there); both together is not a shortcut.
  const mod = e.ctrlKey !== e.metaKey;
  if (!mod || e.altKey) return undefined;
  if (code === 'Tab') return { kind: e.shiftKey ? 'previous-tab' : 'next-tab' };
  const digit = /^Digit([1-9])$/.exec(code);
  if (digit && !e.shiftKey) return { kind: 'tab-at', n: Number(digit[1]) };
  // Outside a terminal plain Ctrl+T / K / / work; the Shift variants work everywhere.
  if (inTerminal && !e.shiftKey) return undefined;
  if (code === 'KeyT') return { kind: 'new-tab' };
  if (code === 'KeyK') return { kind: 'search' };
  if (code === 'Slash') return { kind: 'shortcuts' };
  return undefined;
}

export interface ShortcutHelp {
  does: string;
  /** Outside a terminal; absent: a terminal's own key. */
  keys?: string;
  /** Inside a terminal, where it differs from `keys`. */
  inTerminal?: string;
}

/** The rows of the "Keyboard shortcuts" dialog. */
export const SHORTCUT_HELP: readonly ShortcutHelp[] = [
  { does: 'New tab: resources with the search box ready', keys: 'Ctrl+T', inTerminal: 'Ctrl+Shift+T' },
  { does: 'Search servers, databases and apps', keys: 'Ctrl+K', inTerminal: 'Ctrl+Shift+K' },
  { does: 'Go to tab 1 … 8', keys: 'Ctrl+1 … Ctrl+8' },
  { does: 'Go to the last tab', keys: 'Ctrl+9' },
  { does: 'Next tab', keys: 'Ctrl+Tab' },
  { does: 'Previous tab', keys: 'Ctrl+Shift+Tab' },
  { does: 'Show these keyboard shortcuts', keys: 'Ctrl+/', inTerminal: 'Ctrl+Shift+/' },
  { does: 'Copy / paste', inTerminal: 'Ctrl+Shift+C / Ctrl+Shift+V' },
  { does: 'Leave the terminal (focus its tab)', inTerminal: 'Ctrl+Shift+↑' },
];
