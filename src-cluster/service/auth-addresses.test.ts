import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryLogger } from '../log/logger.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { AuthAddresses, MAX_AUTH_SERVERS } from './auth-addresses.ts';

test('failover walks the list in order, wraps around and tells listeners and the log once per move', () => {
  const log = createMemoryLogger('info');
  const addresses = new AuthAddresses(['a:1', 'b:1', 'c:1'], log);
  const moves: string[] = [];
  addresses.onMove((a) => moves.push(a));
  assert.equal(addresses.current, 'a:1');
  assert.equal(addresses.failover('a:1', 'ECONNREFUSED'), 'b:1');
  assert.equal(addresses.failover('b:1', 'stream reset'), 'c:1');
  assert.equal(addresses.failover('c:1', 'time-out'), 'a:1');
  assert.deepEqual(moves, ['b:1', 'c:1', 'a:1']);
  const lines = log.lines.filter((l) => /failing over to the next auth address/.test(l));
  assert.equal(lines.length, 3);
  assert.ok(lines[0]!.includes('a:1') && lines[0]!.includes('b:1') && lines[0]!.includes('ECONNREFUSED'));
});

test('a failure reported for an address already left behind does not skip the current one', () => {
  const addresses = new AuthAddresses(['a:1', 'b:1'], createMemoryLogger('error'));
  addresses.failover('a:1', 'watch broke');
  // The forwarder saw the same outage a moment later, still naming a:1.
  assert.equal(addresses.failover('a:1', 'connect refused'), 'b:1');
});

test('one address stays put; duplicates collapse; none or too many is a config error', () => {
  const one = new AuthAddresses(['a:1', 'a:1'], createMemoryLogger('error'));
  assert.deepEqual(one.all, ['a:1']);
  assert.equal(one.failover('a:1', 'refused'), 'a:1');
  assert.throws(
    () => new AuthAddresses([], createMemoryLogger('error')),
    (e) => e instanceof GatehouseError && e.code === ErrorCode.CONFIG && /no auth server address/.test(e.message),
  );
  const many = Array.from({ length: MAX_AUTH_SERVERS + 1 }, (_, i) => `h${i}:1`);
  assert.throws(() => new AuthAddresses(many, createMemoryLogger('error')), /at most 16/);
});
