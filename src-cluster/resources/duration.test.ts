import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { durationProblem, formatDuration, parseDurationMs } from './duration.ts';

test('durations parse to milliseconds', () => {
  const table: Array<[string, number]> = [
    ['8h', 8 * 3_600_000],
    ['30m', 30 * 60_000],
    ['1h30m', 90 * 60_000],
    ['90s', 90_000],
    ['250ms', 250],
    ['1.5h', 90 * 60_000],
    ['1h0m5s', 3_605_000],
    [' 2m ', 120_000],
  ];
  for (const [text, ms] of table) assert.equal(parseDurationMs(text), ms, text);
});

test('bad durations say what is wrong and how to write one', () => {
  const hint = 'use a number with a unit (h, m, s, ms), like "8h", "30m" or "1h30m"';
  assert.equal(durationProblem(''), `duration is empty; ${hint}`);
  assert.equal(durationProblem('8'), `"8" has no unit; ${hint}`);
  assert.equal(durationProblem('8 hours'), `"8 hours" is not a duration; ${hint}`);
  assert.equal(durationProblem('1d'), `"1d" is not a duration; ${hint}`);
  assert.equal(durationProblem('-5m'), `"-5m" is not a duration; ${hint}`);
  assert.equal(durationProblem('h'), `"h" is not a duration; ${hint}`);
  assert.equal(durationProblem('0s'), '"0s" must be longer than zero');
  assert.equal(durationProblem('8h'), undefined);
  assert.throws(
    () => parseDurationMs('soon'),
    (e: unknown) =>
      e instanceof GatehouseError &&
      e.code === ErrorCode.BAD_REQUEST &&
      e.message.startsWith('"soon" is not a duration'),
  );
});

test('formatDuration reads back through parseDurationMs', () => {
  for (const ms of [250, 1_000, 90_000, 3_600_000, 5_400_000, 3_605_250])
    assert.equal(parseDurationMs(formatDuration(ms)), ms);
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(0), '0s');
});
