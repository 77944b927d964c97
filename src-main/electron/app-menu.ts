// The application menu as data. Roles give the platform's own Edit shortcuts (copy/paste in the
// terminal and forms) and window handling; DevTools and reload entries exist only in development,
// so a packaged app has no menu path into the renderer's internals.
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuOptions {
  appName: string;
  isMac: boolean;
  /** Development only: adds Reload and Toggle Developer Tools. */
  devTools: boolean;
  openDocs(): void;
  openAbout(): void;
  /**
   * A "Go" menu entry was clicked: press its keys in the page (webContents.sendInputEvent), where
   * the renderer's shortcut handler runs it. Absent: no "Go" menu.
   */
  pressKeys?(keys: MenuShortcut): void;
}

/** A key press the Go menu sends to the page: Electron's keyCode and modifiers. */
export interface MenuShortcut {
  keyCode: string;
  modifiers: Array<'control' | 'shift' | 'meta'>;
}

/**
 * The app's shortcuts (src-renderer/shortcuts/keymap.ts) as menu entries, for finding them. The
 * accelerators are shown but not registered (registerAccelerator: false): a registered one would
 * take Ctrl+K and Ctrl+T from the shell in a terminal, where the renderer leaves them to readline.
 * A click sends the Shift variant, which the renderer takes everywhere.
 */
export function goMenu(isMac: boolean, press: (keys: MenuShortcut) => void): MenuItemConstructorOptions {
  const mod = isMac ? 'meta' : 'control';
  const entry = (label: string, accelerator: string, keyCode: string, shift: boolean): MenuItemConstructorOptions => ({
    label,
    accelerator,
    registerAccelerator: false,
    click: () => press({ keyCode, modifiers: shift ? [mod, 'shift'] : [mod] }),
  });
  return {
    label: 'Go',
    submenu: [
      entry('New Tab', 'CmdOrCtrl+T', 'T', true),
      entry('Search Resources', 'CmdOrCtrl+K', 'K', true),
      { type: 'separator' },
      entry('Next Tab', 'Ctrl+Tab', 'Tab', false),
      entry('Previous Tab', 'Ctrl+Shift+Tab', 'Tab', true),
      ...Array.from({ length: 9 }, (_, i) =>
        entry(i === 8 ? 'Last Tab' : `Tab ${i + 1}`, `CmdOrCtrl+${i + 1}`, `${i + 1}`, false),
      ),
      { type: 'separator' },
      entry('Keyboard Shortcuts', 'CmdOrCtrl+/', '/', true),
    ],
  };
}

export function buildMenuTemplate(opts: MenuOptions): MenuItemConstructorOptions[] {
  const template: MenuItemConstructorOptions[] = [];
  if (opts.isMac) {
    template.push({
      label: opts.appName,
      submenu: [
        { label: `About ${opts.appName}`, click: opts.openAbout },
        { type: 'separator' },
        { role: 'services' },
        { type: 'separator' },
        { role: 'hide' },
        { role: 'hideOthers' },
        { role: 'unhide' },
        { type: 'separator' },
        { role: 'quit' },
      ],
    });
  }
  template.push({ label: 'File', submenu: [opts.isMac ? { role: 'close' } : { role: 'quit' }] });
  template.push({
    label: 'Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  });
  const view: MenuItemConstructorOptions[] = [
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  ];
  if (opts.devTools) view.push({ type: 'separator' }, { role: 'reload' }, { role: 'toggleDevTools' });
  template.push({ label: 'View', submenu: view });
  if (opts.pressKeys) template.push(goMenu(opts.isMac, opts.pressKeys));
  template.push({ role: 'windowMenu' });
  const help: MenuItemConstructorOptions[] = [{ label: 'Documentation', click: opts.openDocs }];
  if (!opts.isMac) help.push({ label: `About ${opts.appName}`, click: opts.openAbout });
  template.push({ role: 'help', submenu: help });
  return template;
}
