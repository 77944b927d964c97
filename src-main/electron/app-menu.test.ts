import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MenuItemConstructorOptions } from 'electron';
import { buildMenuTemplate } from './app-menu.ts';

function roles(items: MenuItemConstructorOptions[]): string[] {
  return items.flatMap((i) => [...(i.role ? [i.role] : []), ...(Array.isArray(i.submenu) ? roles(i.submenu) : [])]);
}

const base = { appName: 'Gatehouse', openDocs: () => {}, openAbout: () => {} };

test('DevTools and reload appear only when development tools are enabled', () => {
  const prod = roles(buildMenuTemplate({ ...base, isMac: false, devTools: false }));
  assert.equal(prod.includes('toggleDevTools'), false);
  assert.equal(prod.includes('reload'), false);
  const dev = roles(buildMenuTemplate({ ...base, isMac: false, devTools: true }));
  assert.ok(dev.includes('toggleDevTools'));
  assert.ok(dev.includes('reload'));
});

test('copy and paste work through the Edit menu on every platform; macOS gets the app menu', () => {
  for (const isMac of [false, true]) {
    const r = roles(buildMenuTemplate({ ...base, isMac, devTools: false }));
    for (const role of ['copy', 'paste', 'selectAll', 'quit']) assert.ok(r.includes(role), `${role} (mac=${isMac})`);
  }
  const mac = buildMenuTemplate({ ...base, isMac: true, devTools: false });
  assert.equal(mac[0]!.label, 'Gatehouse');
  const linux = buildMenuTemplate({ ...base, isMac: false, devTools: false });
  assert.equal(linux[0]!.label, 'File');
});

test('Help > Documentation calls openDocs', () => {
  let opened = 0;
  const tpl = buildMenuTemplate({ ...base, isMac: false, devTools: false, openDocs: () => opened++ });
  const help = tpl.find((i) => i.role === 'help')!.submenu as MenuItemConstructorOptions[];
  const docs = help.find((i) => i.label === 'Documentation')!;
  (docs.click as () => void)();
  assert.equal(opened, 1);
});

test('the Go menu lists the app shortcuts without taking their keys from the page, and a click presses them', () => {
  const pressed: unknown[] = [];
  const tpl = buildMenuTemplate({ ...base, isMac: false, devTools: false, pressKeys: (k) => pressed.push(k) });
  const go = tpl.find((i) => i.label === 'Go')!.submenu as MenuItemConstructorOptions[];
  const entries = go.filter((i) => i.type !== 'separator');
  assert.deepEqual(
    entries.slice(0, 4).map((i) => [i.label, i.accelerator]),
    [
      ['New Tab', 'CmdOrCtrl+T'],
      ['Search Resources', 'CmdOrCtrl+K'],
      ['Next Tab', 'Ctrl+Tab'],
      ['Previous Tab', 'Ctrl+Shift+Tab'],
    ],
  );
  assert.ok(
    entries.every((i) => i.registerAccelerator === false),
    'keys stay the page’s (a terminal keeps Ctrl+K)',
  );
  (entries.find((i) => i.label === 'Search Resources')!.click as () => void)();
  (entries.find((i) => i.label === 'Tab 2')!.click as () => void)();
  assert.deepEqual(pressed, [
    { keyCode: 'K', modifiers: ['control', 'shift'] },
    { keyCode: '2', modifiers: ['control'] },
  ]);
  assert.equal(
    buildMenuTemplate({ ...base, isMac: false, devTools: false }).find((i) => i.label === 'Go'),
    undefined,
  );
});
