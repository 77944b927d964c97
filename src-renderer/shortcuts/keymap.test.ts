import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortcutFor, type KeyPress } from './keymap.ts';

const press = (code: string, mods: Partial<KeyPress> = {}): KeyPress => ({
  key: code.replace(/^(Key|Digit)/, '').toLowerCase(),
  code,
  ctrlKey: true,
  shiftKey: false,
  altKey: false,
  metaKey: false,
  ...mods,
});

test('outside a terminal Ctrl+T, Ctrl+K and Ctrl+/ are the app’s', () => {
  assert.deepEqual(shortcutFor(press('KeyT'), false), { kind: 'new-tab' });
  assert.deepEqual(shortcutFor(press('KeyK'), false), { kind: 'search' });
  assert.deepEqual(shortcutFor(press('Slash'), false), { kind: 'shortcuts' });
  assert.deepEqual(shortcutFor(press('KeyK', { shiftKey: true }), false), { kind: 'search' });
});

test('inside a terminal Ctrl+T / K / / reach the shell; their Shift variants are the app’s', () => {
  for (const code of ['KeyT', 'KeyK', 'Slash', 'KeyC', 'KeyA'])
    assert.equal(shortcutFor(press(code), true), undefined, code);
  assert.deepEqual(shortcutFor(press('KeyT', { shiftKey: true }), true), { kind: 'new-tab' });
  assert.deepEqual(shortcutFor(press('Slash', { shiftKey: true }), true), { kind: 'shortcuts' });
  assert.equal(shortcutFor(press('KeyC', { shiftKey: true }), true), undefined, 'copy stays the terminal’s');
});

test('tab moves work everywhere: Ctrl+1…9, Ctrl+Tab, Ctrl+Shift+Tab', () => {
  for (const inTerminal of [false, true]) {
    assert.deepEqual(shortcutFor(press('Digit1'), inTerminal), { kind: 'tab-at', n: 1 });
    assert.deepEqual(shortcutFor(press('Digit9'), inTerminal), { kind: 'tab-at', n: 9 });
    assert.deepEqual(shortcutFor(press('Tab'), inTerminal), { kind: 'next-tab' });
    assert.deepEqual(shortcutFor(press('Tab', { shiftKey: true }), inTerminal), { kind: 'previous-tab' });
  }
  assert.equal(shortcutFor(press('Digit0'), false), undefined);
});

test('no Ctrl, Alt added, or Ctrl and Cmd together: not a shortcut; Cmd alone stands in for Ctrl', () => {
  assert.equal(shortcutFor(press('KeyK', { ctrlKey: false }), false), undefined);
  assert.equal(shortcutFor(press('KeyK', { altKey: true }), false), undefined);
  assert.equal(shortcutFor(press('KeyK', { metaKey: true }), false), undefined);
  assert.deepEqual(shortcutFor(press('KeyK', { ctrlKey: false, metaKey: true }), false), { kind: 'search' });
});

test('a press without a physical key code (sent by the Electron menu) is read from its key', () => {
  assert.deepEqual(shortcutFor(press('', { key: 'K', shiftKey: true }), true), { kind: 'search' });
  assert.deepEqual(shortcutFor(press('', { key: '3' }), true), { kind: 'tab-at', n: 3 });
  assert.deepEqual(shortcutFor(press('', { key: '?', shiftKey: true }), true), { kind: 'shortcuts' });
  assert.deepEqual(shortcutFor(press('', { key: 'Tab' }), true), { kind: 'next-tab' });
});
