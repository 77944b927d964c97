import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { MAX_PROXIES_PER_PROFILE, parseProxyList } from './proxy-address.ts';
import { isConnectFailure, neverReachedProxy, ProxyFailover } from './proxy-failover.ts';

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

test('a proxy list: comma-separated, canonical, first first, no repeats, bounded', () => {
  assert.deepEqual(
    parseProxyList('A.example, b.example:4000,a.example:3080').map((p) => p.address),
    ['a.example:3080', 'b.example:4000'],
  );
  assert.throws(() => parseProxyList(' , '), /proxy address is empty/);
  const many = Array.from({ length: MAX_PROXIES_PER_PROFILE + 1 }, (_, i) => `p${i}`).join(',');
  assert.throws(() => parseProxyList(many), /at most 8/);
});

test('only failures that never reached the proxy move a call to the next one', () => {
  const refused = new ConnectError('refused', Code.Unavailable, undefined, undefined, socketError('ECONNREFUSED'));
  assert.equal(isConnectFailure(refused, 'error'), true);
  const reset = new ConnectError('reset', Code.Unavailable, undefined, undefined, socketError('ECONNRESET'));
  assert.equal(isConnectFailure(reset, 'open'), false, 'a reset on an open connection may have run the call');
  const untrusted = new ConnectError(
    'cert',
    Code.Unavailable,
    undefined,
    undefined,
    socketError('CERT_SIGNATURE_FAILURE'),
  );
  assert.equal(isConnectFailure(untrusted, 'connecting'), false, 'a trust failure never fails over');
  const altname = new ConnectError(
    'name',
    Code.Unavailable,
    undefined,
    undefined,
    socketError('ERR_TLS_CERT_ALTNAME_INVALID'),
  );
  assert.equal(isConnectFailure(altname, 'connecting'), false, 'a proxy not named in the certificate is not trusted');
  const alert = new ConnectError(
    'alert',
    Code.Unavailable,
    undefined,
    undefined,
    socketError('ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR'),
  );
  assert.equal(isConnectFailure(alert, 'connecting'), true, 'a handshake broken off is not a trust verdict');
  assert.equal(isConnectFailure(new ConnectError('late', Code.DeadlineExceeded), 'connecting'), true);
  assert.equal(isConnectFailure(new ConnectError('late', Code.DeadlineExceeded), 'open'), false);
  assert.equal(isConnectFailure(new GatehouseError(ErrorCode.ACCESS_DENIED, 'no'), 'open'), false);
});

test('a tunnel dial that never reached the proxy is told from one the proxy answered', () => {
  const unreachable = (why: string) =>
    new GatehouseError(ErrorCode.PROXY_UNREACHABLE, `cannot reach the proxy at 127.0.0.1:1: ${why}`);
  assert.equal(neverReachedProxy(unreachable('ECONNREFUSED')), true);
  assert.equal(neverReachedProxy(unreachable('no TLS handshake within 15000 ms')), true);
  assert.equal(neverReachedProxy(unreachable('ECONNRESET')), false);
  assert.equal(neverReachedProxy(new GatehouseError(ErrorCode.PROXY_UNTRUSTED, 'CA changed: ECONNREFUSED')), false);
});

test('ProxyFailover: starts at the proxy that answered last, tries each at most once, stops at an answer', async () => {
  const [a, b, c] = ['a:3080', 'b:3080', 'c:3080'].map((x) => parseProxyList(x)[0]!);
  const down = new Set<string>();
  const dialled: string[] = [];
  const dial = async (p: { address: string }) => {
    dialled.push(p.address);
    if (down.has(p.address)) {
      throw new GatehouseError(ErrorCode.PROXY_UNREACHABLE, `cannot reach the proxy at ${p.address}: ECONNREFUSED`);
    }
    return p.address;
  };
  const failover = new ProxyFailover();
  down.add('a:3080');
  assert.equal(await failover.dial([a!, b!, c!], dial), 'b:3080');
  assert.equal(failover.inUse, 'b:3080');
  down.clear();
  assert.equal(await failover.dial([a!, b!, c!], dial), 'b:3080', 'stays on the proxy that answered');
  down.add('b:3080').add('c:3080');
  assert.equal(await failover.dial([a!, b!, c!], dial), 'a:3080', 'wraps around');
  assert.deepEqual(dialled, ['a:3080', 'b:3080', 'b:3080', 'b:3080', 'c:3080', 'a:3080']);
  down.add('a:3080');
  dialled.length = 0;
  await assert.rejects(failover.dial([a!, b!, c!], dial), /cannot reach the proxy at c:3080/);
  assert.deepEqual(dialled, ['a:3080', 'b:3080', 'c:3080'], 'each proxy once per tunnel');
  const refusing = async () => {
    throw new GatehouseError(ErrorCode.ACCESS_DENIED, 'no');
  };
  await assert.rejects(new ProxyFailover().dial([a!, b!], refusing), /no/);
  await assert.rejects(new ProxyFailover().dial([], dial), /no proxy address/);
});
