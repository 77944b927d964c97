// The database side of the stores: databases listed beside servers, Connect → a gateway tab,
// main's status events, a refused port move, Run → a terminal tab whose session main starts from
// the gateway id alone, and the tabs coming back after a reload (main owns the gateways).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatabaseSummary, DbGatewaySummary } from '../../src-main/ipc/contract.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import { createFakeApi, fail, ok } from '../test-support/fake-api.ts';
import { createAppStores } from './app-stores.ts';

const orders: DatabaseSummary = {
  name: 'orders',
  protocol: 'postgres',
  description: '',
  uri: 'db:5432',
  labels: {},
  allowedDbUsers: ['alice'],
  allowedDbNames: ['sales'],
};
const gateway = (over: Partial<DbGatewaySummary> = {}): DbGatewaySummary => ({
  id: 'g1',
  proxy: 'demo:3080',
  kind: 'db',
  database: 'orders',
  protocol: 'postgres',
  dbUser: 'alice',
  dbName: 'sales',
  localAddress: '127.0.0.1',
  localPort: 50001,
  connections: 0,
  clientCommand: 'psql "host=127.0.0.1 port=50001 user=alice dbname=sales sslmode=disable"',
  ...over,
});

test('databases load per cluster; a session error marks the session expired', async () => {
  let answer = ok([orders]);
  const fake = createFakeApi({ 'resources.listDatabases': () => answer });
  const s = createAppStores(fake.api);
  await s.databases.getState().load('demo:3080');
  assert.deepEqual(s.databases.getState().byProxy['demo:3080'], { status: 'ready', databases: [orders] });
  answer = fail(ErrorCode.DB_UNREACHABLE) as never;
  await s.databases.getState().load('demo:3080');
  const list = s.databases.getState().byProxy['demo:3080']!;
  assert.equal(list.status, 'failed');
  assert.deepEqual(list.databases, [orders], 'the last list stays shown');
});

test('Connect opens a gateway tab; status events update it; Run opens a terminal tab on the gateway', async () => {
  const fake = createFakeApi({
    'gateways.createDb': () => ok(gateway()),
    'gateways.runClient': () => ok({ terminalId: 't5' }),
  });
  const s = createAppStores(fake.api);
  const refused = await s.actions.connectDatabase('demo:3080', orders, { dbUser: 'alice', dbName: 'sales' });
  assert.equal(refused, undefined);
  assert.deepEqual(fake.callsTo('gateways.createDb'), [
    { proxy: 'demo:3080', database: 'orders', protocol: 'postgres', dbUser: 'alice', dbName: 'sales' },
  ]);
  assert.equal(s.ui.getState().view, 'gateway');
  assert.equal(s.gateways.getState().activeGatewayId, 'g1');

  const refusal = { code: ErrorCode.DEVICE_UNTRUSTED, message: 'unauthorized device', at: '2026-01-01T00:00:00Z' };
  fake.emit('gateways.status', gateway({ connections: 1, lastRefusal: refusal }));
  assert.equal(s.gateways.getState().tabs[0]!.gateway.connections, 1);
  assert.deepEqual(s.gateways.getState().tabs[0]!.gateway.lastRefusal, refusal);

  s.actions.runGatewayClient('g1');
  assert.equal(s.ui.getState().view, 'terminals');
  const tab = s.terminals.getState().tabs[0]!;
  assert.equal(tab.title, 'psql alice@orders');
  await s.terminals.getState().start(tab.id, 100, 30);
  assert.deepEqual(fake.callsTo('gateways.runClient'), [{ gatewayId: 'g1', cols: 100, rows: 30 }]);
  assert.deepEqual(fake.callsTo('terminals.open'), [], 'no SSH terminal for a client tab');
  assert.deepEqual(s.terminals.getState().tabs[0]!.state, { kind: 'open', terminalId: 't5' });
});

test('a refused Connect stays in the dialog: no tab, the error returned', async () => {
  const fake = createFakeApi({
    'gateways.createDb': () => fail(ErrorCode.CONFLICT, 'local port 5432 is already in use'),
  });
  const s = createAppStores(fake.api);
  const refused = await s.actions.connectDatabase('demo:3080', orders, { dbUser: 'alice' });
  assert.equal(refused?.code, ErrorCode.CONFLICT);
  assert.deepEqual(s.gateways.getState().tabs, []);
  assert.equal(s.ui.getState().view, 'servers');
  assert.deepEqual(fake.callsTo('gateways.createDb'), [
    { proxy: 'demo:3080', database: 'orders', protocol: 'postgres', dbUser: 'alice' },
  ]);
});

test('a port change: refused keeps the old port and shows why; accepted takes the new one', async () => {
  let answer = fail(ErrorCode.CONFLICT, 'local port 5432 is already in use; choose another');
  const fake = createFakeApi({
    'gateways.createDb': () => ok(gateway()),
    'gateways.setPort': ({ port }) => (answer.ok ? ok(gateway({ localPort: port })) : answer),
  });
  const s = createAppStores(fake.api);
  await s.actions.connectDatabase('demo:3080', orders, { dbUser: 'alice' });
  assert.equal(await s.gateways.getState().setPort('g1', 5432), false);
  let tab = s.gateways.getState().tabs[0]!;
  assert.equal(tab.gateway.localPort, 50001);
  assert.equal(tab.actionError?.code, ErrorCode.CONFLICT);
  assert.equal(tab.busy, false);

  answer = ok(null) as never;
  assert.equal(await s.gateways.getState().setPort('g1', 6000), true);
  tab = s.gateways.getState().tabs[0]!;
  assert.equal(tab.gateway.localPort, 6000);
  assert.equal(tab.actionError, undefined, 'the old error goes');
});

test('after a reload the gateways come back from main; closing one returns to the resources', async () => {
  const fake = createFakeApi({
    'clusters.list': () => ok([]),
    'app.info': () => ok({ version: '1', host: 'browser', platform: 'linux' }),
    'gateways.list': () => ok([gateway(), gateway({ id: 'g2', database: 'billing', protocol: 'mysql' })]),
    'gateways.close': () => ok(null),
  });
  const s = createAppStores(fake.api);
  await s.actions.start();
  assert.deepEqual(
    s.gateways.getState().tabs.map((t) => t.gateway.id),
    ['g1', 'g2'],
  );
  s.actions.selectGateway('g2');
  assert.equal(s.ui.getState().view, 'gateway');
  await s.actions.closeGateway('g2');
  assert.equal(s.gateways.getState().activeGatewayId, 'g1', 'the neighbour becomes active');
  assert.equal(s.ui.getState().view, 'gateway');
  fake.emit('gateways.closed', { gatewayId: 'g1' });
  assert.deepEqual(s.gateways.getState().tabs, []);
  assert.equal(s.ui.getState().view, 'servers');
});

test("logging out drops the cluster's gateway tabs and databases", async () => {
  const fake = createFakeApi({
    'gateways.createDb': () => ok(gateway()),
    'resources.listDatabases': () => ok([orders]),
    'auth.logout': () => ok(null),
    'clusters.list': () => ok([]),
  });
  const s = createAppStores(fake.api);
  await s.databases.getState().load('demo:3080');
  await s.actions.connectDatabase('demo:3080', orders, { dbUser: 'alice' });
  await s.actions.logout('demo:3080');
  assert.deepEqual(s.gateways.getState().tabs, []);
  assert.equal(s.databases.getState().byProxy['demo:3080'], undefined);
  assert.equal(s.ui.getState().view, 'servers');
});
