// The app's app gateways without a cluster: a real GatewayService on 127.0.0.1 whose route access
// refuses the way the app service does for an untrusted device, so what the renderer is told
// (the summary with its URL, the refusal with its code, Launch opening the browser or handing the
// URL back, a second Launch reusing the gateway) is checked inside main.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { APP_UNTRUSTED_DEVICE_MESSAGE } from '../../src-shared/app-pages.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { GatewayService } from '../gateways/gateway-service.ts';
import { RouteProtocols } from '../gateways/route.ts';
import type { AppSummary, EventChannel, EventPayloads } from '../ipc/contract.ts';
import { appGatewayUrl, appRoute } from './app-gateway-target.ts';
import { AppGateways } from './gateways-service.ts';

const PROXY = 'proxy.test:3080';
const APPS: AppSummary[] = [
  { name: 'grafana', kind: 'http', description: '', uri: 'http://127.0.0.1:3000', publicAddr: '', labels: {} },
  { name: 'redis', kind: 'tcp', description: '', uri: 'tcp://127.0.0.1:6379', publicAddr: '', labels: {} },
];

function harness(opts: { canOpen: boolean }) {
  const events: Array<[EventChannel, unknown]> = [];
  const opened: string[] = [];
  const lookups: string[] = [];
  let issued = 0;
  const gateways = new AppGateways({
    core: { proxyAccess: () => assert.fail('routeAccess is given') },
    sessions: {
      require: (proxy: string) => {
        if (proxy !== PROXY) throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, `not logged in to ${proxy}`);
        return {} as never;
      },
    },
    gateways: new GatewayService({
      protocols: new RouteProtocols([{ kind: 'app', alpn: () => 'test-app', header: (r) => ({ app: r.name }) }]),
    }),
    events: { emit: <E extends EventChannel>(e: E, p: EventPayloads[E]) => void events.push([e, p]) },
    // The gateway service gets an app's route certificate when the gateway opens (a refusal to
    // issue it is the caller's error); later connections are refused as an untrusted device is.
    routeAccess: () => ({
      proxy: { host: '127.0.0.1', port: 1, address: '127.0.0.1:1' },
      proxyCaPem: '',
      certificateFor: () => {
        if (issued++ === 0) return Promise.resolve({ certPem: 'route cert', keyPem: 'key' });
        return Promise.reject(new GatehouseError(ErrorCode.DEVICE_UNTRUSTED, APP_UNTRUSTED_DEVICE_MESSAGE));
      },
    }),
    clock: () => new Date('2026-01-02T03:04:05Z'),
    statusPollMs: 20,
    findApp: (proxy, name) => {
      lookups.push(`${proxy}/${name}`);
      return Promise.resolve(APPS.find((a) => a.name === name));
    },
    ...(opts.canOpen ? { openLocalUrl: (url: string) => Promise.resolve(void opened.push(url)) } : {}),
  });
  return { gateways, events, opened, lookups };
}

function connectAndWaitClose(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('error', reject);
    s.once('close', () => resolve());
  });
}

describe('AppGateways (app gateways)', () => {
  let close: () => Promise<void> = async () => {};
  afterEach(() => close());

  test('an HTTP app gets a gateway with its localhost URL; Launch opens it in the browser', async () => {
    const h = harness({ canOpen: true });
    close = () => h.gateways.closeAll();
    const g = await h.gateways.openApp({ proxy: PROXY, app: 'grafana' });
    assert.equal(g.kind, 'app');
    assert.equal(g.app, 'grafana');
    assert.equal(g.appKind, 'http');
    assert.equal(g.localAddress, '127.0.0.1');
    assert.equal(g.url, `http://localhost:${g.localPort}/`);
    assert.deepEqual(h.gateways.summaries(), [g]);
    assert.deepEqual(h.events.at(-1), ['gateways.status', g], 'the renderer hears of the new gateway');

    assert.deepEqual(await h.gateways.launchApp(g.id), { url: g.url, opened: true });
    assert.deepEqual(h.opened, [g.url]);
  });

  test('Launch again reuses the open gateway; another port asked for opens a second one', async () => {
    const h = harness({ canOpen: false });
    close = () => h.gateways.closeAll();
    const first = await h.gateways.openApp({ proxy: PROXY, app: 'grafana' });
    const again = await h.gateways.openApp({ proxy: PROXY, app: 'grafana', port: first.localPort });
    assert.equal(again.id, first.id);
    assert.equal(h.lookups.length, 1, 'no second lookup for an open gateway');
    assert.deepEqual(await h.gateways.launchApp(first.id), { url: first.url, opened: false }, 'browser host');
  });

  test('a TCP app has an address and no URL; Launch on it is a BAD_REQUEST', async () => {
    const h = harness({ canOpen: true });
    close = () => h.gateways.closeAll();
    const g = await h.gateways.openApp({ proxy: PROXY, app: 'redis' });
    assert.equal(g.appKind, 'tcp');
    assert.equal(g.url, undefined);
    await assert.rejects(h.gateways.launchApp(g.id), (e: unknown) => (e as GatehouseError).code === 'BAD_REQUEST');
    assert.deepEqual(h.opened, []);
  });

  test('an app the roles do not show is APP_NOT_FOUND and nothing listens; no session is NOT_LOGGED_IN', async () => {
    const h = harness({ canOpen: true });
    close = () => h.gateways.closeAll();
    await assert.rejects(
      h.gateways.openApp({ proxy: PROXY, app: 'payroll' }),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.APP_NOT_FOUND && /"payroll"/.test(e.message),
    );
    await assert.rejects(
      h.gateways.openApp({ proxy: 'other.test:3080', app: 'grafana' }),
      (e: unknown) => (e as GatehouseError).code === ErrorCode.NOT_LOGGED_IN,
    );
    assert.deepEqual(h.gateways.summaries(), []);
  });

  test('a refused connection shows as the last refusal with the untrusted-device code and words', async () => {
    const h = harness({ canOpen: true });
    close = () => h.gateways.closeAll();
    const g = await h.gateways.openApp({ proxy: PROXY, app: 'grafana' });
    await connectAndWaitClose(g.localPort);
    const refusal = {
      code: ErrorCode.DEVICE_UNTRUSTED,
      message: APP_UNTRUSTED_DEVICE_MESSAGE,
      at: '2026-01-02T03:04:05.000Z',
    };
    assert.deepEqual(h.gateways.summaries()[0]!.lastRefusal, refusal);
    const statuses = h.events.filter(([e]) => e === 'gateways.status').map(([, p]) => p as { lastRefusal?: unknown });
    assert.deepEqual(statuses.at(-1)?.lastRefusal, refusal);
  });

  test('appGatewayUrl names localhost and the port; the route carries the kind (it picks the ALPN)', () => {
    assert.equal(appGatewayUrl(8888), 'http://localhost:8888/');
    assert.deepEqual(appRoute({ app: 'redis', appKind: 'tcp' }), { kind: 'app', name: 'redis', protocol: 'tcp' });
  });
});
