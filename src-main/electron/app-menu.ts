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
  template.push({ role: 'windowMenu' });
  const help: MenuItemConstructorOptions[] = [{ label: 'Documentation', click: opts.openDocs }];
  if (!opts.isMac) help.push({ label: `About ${opts.appName}`, click: opts.openAbout });
  template.push({ role: 'help', submenu: help });
  return template;
}
