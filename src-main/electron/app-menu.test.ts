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
