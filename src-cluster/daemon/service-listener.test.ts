// The db and app services' shared listener pieces: the advertised address and the registration
// that keeps trying while auth is away and stops when the service does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { createMemoryLogger } from '../log/logger.ts';
import { advertisedAddress, registerUntilDone, serviceCertNames } from './service-listener.ts';

test('a wildcard listener is advertised by the host name, IPv6 in brackets', () => {
  assert.equal(advertisedAddress({ host: '127.0.0.1', port: 3082 }), '127.0.0.1:3082');
  assert.equal(advertisedAddress({ host: '0.0.0.0', port: 3082 }), `${hostname()}:3082`);
  assert.equal(advertisedAddress({ host: '::1', port: 3082 }), '[::1]:3082');
  const names = serviceCertNames('apps1', '10.0.0.5');
  assert.ok(names.dnsNames.includes('apps1') && names.ips.includes('10.0.0.5') && names.ips.includes('127.0.0.1'));
});

test('registration is retried until auth takes it, warning once', async () => {
  const log = createMemoryLogger('info');
  let calls = 0;
  await registerUntilDone(
    'the configured apps (1)',
    async () => {
      if (++calls === 1) throw new Error('auth unreachable');
    },
    log,
    new AbortController().signal,
  );
  assert.equal(calls, 2);
  assert.equal(log.lines.filter((l) => /registering the configured apps \(1\) failed; retrying/.test(l)).length, 1);
  assert.ok(log.lines.some((l) => /registered the configured apps \(1\)/.test(l)));
});

test('a stopped service stops retrying at once', async () => {
  const stop = new AbortController();
  let calls = 0;
  const done = registerUntilDone(
    'the configured apps (0)',
    async () => {
      calls++;
      throw new Error('auth unreachable');
    },
    createMemoryLogger('error'),
    stop.signal,
  );
  await new Promise((r) => setTimeout(r, 50));
  const started = Date.now();
  stop.abort();
  await done;
  assert.ok(Date.now() - started < 500, 'the backoff sleep ends with the signal');
  assert.equal(calls, 1);
});
