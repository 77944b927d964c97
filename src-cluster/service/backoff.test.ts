import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, sleep } from './backoff.ts';

test('backoff doubles its ceiling per attempt, stays within [ceiling/2, ceiling] and never exceeds maxMs', () => {
  const high = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
  assert.deepEqual(
    Array.from({ length: 6 }, () => high.next()),
    [100, 200, 400, 800, 1000, 1000],
  );
  const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
  assert.deepEqual(
    Array.from({ length: 5 }, () => low.next()),
    [50, 100, 200, 400, 500],
  );
});

test('reset starts over from the initial wait', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
  b.next();
  b.next();
  b.next();
  assert.equal(b.attempt, 3);
  b.reset();
  assert.equal(b.next(), 100);
});

test('bad bounds are refused', () => {
  assert.throws(() => new Backoff({ initialMs: 0 }), /0 < initialMs <= maxMs/);
  assert.throws(() => new Backoff({ initialMs: 500, maxMs: 100 }), /0 < initialMs <= maxMs/);
});

test('sleep ends early and says so when aborted', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const slept = sleep(10_000, controller.signal);
  controller.abort();
  assert.equal(await slept, false);
  assert.ok(Date.now() - started < 1000);
  assert.equal(await sleep(1), true);
});
