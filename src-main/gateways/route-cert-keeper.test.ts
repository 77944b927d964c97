// The gateway's certificate keeper: renews in the background at the renewal time, retries a
// failed renewal until the certificate expires, stops on an expired login and on close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { parseProxyAddress } from '../core/proxy-address.ts';
import type { RouteAccess } from './gateway-service.ts';
import type { TlsClientCertificate } from './proxy-tunnel.ts';
import { RouteCertificateKeeper } from './route-cert-keeper.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An access whose certificates renew `renewInMs` after issue; `fail` makes the next calls throw. */
function fakeAccess(renewInMs: number) {
  const state = { calls: 0, fail: undefined as GatehouseError | undefined };
  const access: RouteAccess = {
    proxy: parseProxyAddress('127.0.0.1:1'),
    proxyCaPem: '',
    certificateFor: async (): Promise<TlsClientCertificate> => {
      state.calls++;
      if (state.fail) throw state.fail;
      return {
        certPem: `cert ${state.calls}`,
        keyPem: 'key',
        renewAt: new Date(Date.now() + renewInMs),
        expiresAt: new Date(Date.now() + 60_000),
      };
    },
  };
  return { access, state };
}

test('renews at the renewal time without a connection asking, and stops on close', async () => {
  const { access, state } = fakeAccess(-990); // renewal due: margin 1 s - 990 ms = 10 ms away
  const keeper = new RouteCertificateKeeper({
    route: { kind: 'app', name: 'grafana', protocol: 'http' },
    access: () => access,
  });
  assert.equal((await keeper.current()).certPem, 'cert 1');
  assert.ok(keeper.renewing);
  await sleep(120);
  assert.ok(state.calls >= 2, 'renewed in the background');
  keeper.close();
  const after = state.calls;
  await sleep(60);
  assert.equal(state.calls, after, 'no renewal after close');
  assert.equal(keeper.renewing, false);
});

test('a failed renewal is retried while the certificate lasts; an expired login stops it', async () => {
  const { access, state } = fakeAccess(-990);
  const keeper = new RouteCertificateKeeper({
    route: { kind: 'app', name: 'grafana', protocol: 'http' },
    access: () => access,
    retryMs: 20,
  });
  await keeper.current();
  state.fail = new GatehouseError(ErrorCode.PROXY_UNREACHABLE, 'proxy down');
  await sleep(150);
  assert.ok(state.calls >= 3, `retried (${state.calls} calls)`);
  state.fail = new GatehouseError(ErrorCode.CERT_EXPIRED, 'log in again');
  await sleep(60);
  const stopped = state.calls;
  await sleep(60);
  assert.equal(state.calls, stopped, 'no retries once the login expired');
  assert.equal(keeper.renewing, false);
  keeper.close();
});

test('the login certificate (no renewal time) is not renewed', async () => {
  const access: RouteAccess = {
    proxy: parseProxyAddress('127.0.0.1:1'),
    proxyCaPem: '',
    certificateFor: async () => ({ certPem: 'login', keyPem: 'key' }),
  };
  const keeper = new RouteCertificateKeeper({ route: { kind: 'ssh', name: 'web1' }, access: () => access });
  await keeper.current();
  assert.equal(keeper.renewing, false);
});

test('a renewal capped at the same expiry (the login ends then) is the last one', async () => {
  const loginEnds = new Date(Date.now() + 60_000);
  let calls = 0;
  const access: RouteAccess = {
    proxy: parseProxyAddress('127.0.0.1:1'),
    proxyCaPem: '',
    certificateFor: async () => {
      calls++;
      return { certPem: 'c', keyPem: 'k', renewAt: new Date(Date.now() - 990), expiresAt: loginEnds };
    },
  };
  const keeper = new RouteCertificateKeeper({
    route: { kind: 'app', name: 'grafana', protocol: 'http' },
    access: () => access,
  });
  await keeper.current();
  await sleep(150);
  assert.equal(calls, 2, 'one renewal, which gained nothing, and no more');
  assert.equal(keeper.renewing, false);
  keeper.close();
});
