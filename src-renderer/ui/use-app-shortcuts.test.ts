import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAppStores } from '../stores/app-stores.ts';
import { createFakeApi, ok } from '../test-support/fake-api.ts';
import { runShortcut } from './use-app-shortcuts.ts';

test('each shortcut action reaches its store: search focus, tab moves, the shortcuts dialog', () => {
  const fake = createFakeApi({ 'terminals.close': () => ok(null) });
  const s = createAppStores(fake.api);
  const server = { name: 'web', address: 'web:3022', hostname: 'web', labels: {}, logins: ['root'] };
  s.actions.connect('a:3080', server, 'root');
  s.actions.connect('a:3080', { ...server, name: 'db' }, 'root');
  const [first, second] = s.terminals.getState().tabs.map((t) => t.id);

  runShortcut(s, { kind: 'search' });
  assert.deepEqual([s.ui.getState().view, s.ui.getState().searchFocusRequest], ['servers', 1]);
  runShortcut(s, { kind: 'new-tab' });
  assert.equal(s.ui.getState().searchFocusRequest, 2, 'each press asks again (focus moved away meanwhile)');
  runShortcut(s, { kind: 'tab-at', n: 2 });
  assert.deepEqual([s.ui.getState().view, s.terminals.getState().activeTabId], ['terminals', second]);
  runShortcut(s, { kind: 'next-tab' });
  assert.equal(s.terminals.getState().activeTabId, first);
  runShortcut(s, { kind: 'previous-tab' });
  assert.equal(s.terminals.getState().activeTabId, second);
  runShortcut(s, { kind: 'shortcuts' });
  assert.equal(s.ui.getState().shortcutsOpen, true);
});
