import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCursorBlink, type BlinkTimers } from './cursor-blink.ts';

/** Interval stand-in: tick() fires every live interval once, as if its period passed. */
function fakeTimers() {
  let next = 1;
  const live = new Map<number, () => void>();
  const timers: BlinkTimers = {
    setInterval: (cb) => (live.set(next, cb), next++),
    clearInterval: (h) => void live.delete(h),
  };
  return { timers, tick: () => [...live.values()].forEach((cb) => cb()), live };
}

function blinkWithLog() {
  const t = fakeTimers();
  const drawn: boolean[] = [];
  const blink = createCursorBlink((shown) => drawn.push(shown), t.timers);
  return { ...t, drawn, blink };
}

test('focused, the cursor alternates off and on once per interval', () => {
  const b = blinkWithLog();
  b.blink.start();
  assert.equal(b.blink.running, true);
  b.tick();
  b.tick();
  b.tick();
  assert.deepEqual(b.drawn, [false, true, false]);
  assert.equal(b.blink.shown, false);
});

test('a key restarts the period without drawing anything, even with the cursor off', () => {
  const b = blinkWithLog();
  b.blink.start();
  b.tick();
  assert.deepEqual(b.drawn, [false]);
  const before = [...b.live.keys()];
  b.blink.keyPressed();
  assert.deepEqual(b.drawn, [false], 'the keystroke must not change the DOM (it would cause a frame)');
  assert.equal(b.live.size, 1);
  assert.notDeepEqual(
    [...b.live.keys()],
    before,
    'the interval was replaced, so the next toggle is a full period away',
  );
});

test('the cursor moving shows it and restarts the period; drawing only on a change', () => {
  const b = blinkWithLog();
  b.blink.start();
  b.blink.cursorMoved();
  assert.deepEqual(b.drawn, [], 'already shown: nothing to draw');
  b.tick();
  b.blink.cursorMoved();
  assert.deepEqual(b.drawn, [false, true]);
  assert.equal(b.live.size, 1);
});

test('stopped (focus left), the cursor is shown and no timer runs; moves and keys do not restart it', () => {
  const b = blinkWithLog();
  b.blink.start();
  b.tick();
  b.blink.stop();
  assert.deepEqual(b.drawn, [false, true]);
  assert.equal(b.live.size, 0);
  b.blink.cursorMoved();
  b.blink.keyPressed();
  assert.equal(b.live.size, 0);
  assert.equal(b.blink.running, false);
});

test('an interval that is not positive is refused', () => {
  assert.throws(() => createCursorBlink(() => {}, fakeTimers().timers, 0), RangeError);
});
