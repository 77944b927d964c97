import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, parseDurationMs } from './config.ts';

test('empty config gives the embedded defaults', () => {
  const c = parseConfig('', 'x');
  assert.equal(c.proxy.listen_addr, '127.0.0.1:3080');
  assert.equal(c.auth.second_factor, 'off');
  assert.equal(c.node.enabled, true);
  assert.ok(c.node.name.length > 0);
});

test('config errors name the field, the line and the allowed values', () => {
  assert.throws(
    () => parseConfig('auth:\n  second_factor: sms\n', 'c.yaml'),
    /c\.yaml: auth\.second_factor: .*"off".*"otp".*\(line 2\)/,
  );
  assert.throws(
    () => parseConfig('proxy:\n  enabled: true\n  listen: 1\n', 'c.yaml'),
    /c\.yaml: proxy\.listen: unknown field \(line 3\)/,
  );
  assert.throws(() => parseConfig('proxy: [', 'c.yaml'), /c\.yaml: invalid YAML/);
  assert.throws(() => parseConfig('node:\n  listen_addr: nope\n'), /node\.listen_addr: expected HOST:PORT \(line 2\)/);
});

test('durations', () => {
  assert.equal(parseDurationMs('1h30m'), 5_400_000);
  assert.equal(parseDurationMs('45s'), 45_000);
  assert.throws(() => parseDurationMs('soon'));
});

test('auth.lockout: 5 attempts / 30m by default, configurable, limits named', () => {
  assert.deepEqual(parseConfig('', 'x').auth.lockout, { max_attempts: 5, duration: '30m' });
  const c = parseConfig('auth:\n  lockout: { max_attempts: 3, duration: 1h }\n', 'x');
  assert.deepEqual(c.auth.lockout, { max_attempts: 3, duration: '1h' });
  assert.throws(
    () => parseConfig('auth:\n  lockout:\n    max_attempts: 0\n', 'c.yaml'),
    /c\.yaml: auth\.lockout\.max_attempts: .*(>=|at least|too small).*1.* \(line 3\)/i,
  );
  assert.throws(
    () => parseConfig('auth:\n  lockout: { duration: soon }\n', 'c.yaml'),
    /auth\.lockout\.duration: expected a duration/,
  );
});
