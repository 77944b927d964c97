// The app side of the stores: apps listed beside servers and databases, Launch on a web app (a
// gateway tab, then the browser: main opens it, or — browser host — the renderer opens a new tab),
// Connect on a TCP app (a tab, no browser), and the errors a person sees when either is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppGatewaySummary, AppSummary } from '../../src-main/ipc/contract.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import { createFakeApi, fail, ok } from '../test-support/fake-api.ts';
import { createAppStores } from './app-stores.ts';
import { gatewayTitle } from './gateways-store.ts';

const PROXY = 'demo:3080';
const grafana: AppSummary = {
  name: 'grafana',
  kind: 'http',
  description: 'Dashboards',
  uri: 'http://127.0.0.1:3000',
  publicAddr: '',
  labels: { env: 'e2e' },
};
const redis: AppSummary = { ...grafana, name: 'redis', kind: 'tcp', uri: 'tcp://127.0.0.1:6379', description: '' };
const gateway = (over: Partial<AppGatewaySummary> = {}): AppGatewaySummary => ({
  id: 'g1',
  proxy: PROXY,
  kind: 'app',
  app: 'grafana',
  appKind: 'http',
  url: 'http://localhost:50001/',
  localAddress: '127.0.0.1',
  localPort: 50001,
  connections: 0,
  ...over,
});

test('apps load per cluster; a failed load keeps the last list and a session error marks the session expired', async () => {
  let answer = ok([grafana, redis]);
  const fake = createFakeApi({ 'resources.listApps': () => answer });
  const s = createAppStores(fake.api);
  await s.apps.getState().load(PROXY);
  assert.deepEqual(s.apps.getState().byProxy[PROXY], { status: 'ready', apps: [grafana, redis] });
  answer = fail(ErrorCode.CERT_EXPIRED) as never;
  await s.apps.getState().load(PROXY);
  assert.equal(s.apps.getState().byProxy[PROXY]!.status, 'failed');
  assert.deepEqual(s.apps.getState().byProxy[PROXY]!.apps, [grafana, redis]);
  s.apps.getState().forget(PROXY);
  assert.equal(s.apps.getState().byProxy[PROXY], undefined);
});

test('Launch: a gateway tab, then main opens the browser; nothing is opened here', async () => {
  const opened: string[] = [];
  const fake = createFakeApi({
    'gateways.createApp': () => ok(gateway()),
    'gateways.launchApp': () => ok({ url: 'http://localhost:50001/', opened: true }),
  });
  const s = createAppStores(fake.api, undefined, (url) => opened.push(url));
  assert.equal(await s.actions.openApp(PROXY, grafana), undefined);
  assert.deepEqual(fake.callsTo('gateways.createApp'), [{ proxy: PROXY, app: 'grafana' }]);
  assert.deepEqual(fake.callsTo('gateways.launchApp'), [{ gatewayId: 'g1' }]);
  assert.deepEqual(opened, []);
  assert.equal(s.ui.getState().view, 'gateway');
  assert.equal(s.gateways.getState().activeGatewayId, 'g1');
  assert.equal(gatewayTitle(s.gateways.getState().tabs[0]!.gateway), 'grafana');
});

test('Launch under the browser host: main cannot open the browser, so the renderer opens a new tab', async () => {
  const opened: string[] = [];
  const fake = createFakeApi({
    'gateways.createApp': () => ok(gateway()),
    'gateways.launchApp': () => ok({ url: 'http://localhost:50001/', opened: false }),
  });
  const s = createAppStores(fake.api, undefined, (url) => opened.push(url));
  await s.actions.openApp(PROXY, grafana);
  assert.deepEqual(opened, ['http://localhost:50001/']);
});

test('Connect on a TCP app opens its tab and no browser', async () => {
  const fake = createFakeApi({
    'gateways.createApp': () => ok(gateway({ app: 'redis', appKind: 'tcp', url: undefined })),
  });
  const s = createAppStores(fake.api, undefined, () => assert.fail('no browser for a TCP app'));
  assert.equal(await s.actions.openApp(PROXY, redis), undefined);
  assert.deepEqual(fake.callsTo('gateways.launchApp'), []);
  assert.equal(s.gateways.getState().tabs.length, 1);
});

test('a refused gateway is returned (no tab); a failed browser launch shows in the tab', async () => {
  let create = fail(ErrorCode.APP_NOT_FOUND, 'there is no app "grafana" you may reach') as never;
  const fake = createFakeApi({
    'gateways.createApp': () => create,
    'gateways.launchApp': () => fail(ErrorCode.INTERNAL, 'no browser'),
  });
  const s = createAppStores(fake.api);
  assert.equal((await s.actions.openApp(PROXY, grafana))?.code, ErrorCode.APP_NOT_FOUND);
  assert.deepEqual(s.gateways.getState().tabs, []);

  create = ok(gateway()) as never;
  assert.equal(await s.actions.openApp(PROXY, grafana), undefined);
  assert.equal(s.gateways.getState().tabs[0]!.actionError?.message, 'no browser');
});
