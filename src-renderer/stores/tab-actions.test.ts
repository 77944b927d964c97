import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterSummary, DbGatewaySummary, ServerSummary, SessionInfo } from '../../src-main/ipc/contract.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import { createFakeApi, fail, ok, type Handlers } from '../test-support/fake-api.ts';
import { MemoryStorage } from '../test-support/memory-storage.ts';
import { pendingReopen } from './reopen-store.ts';
import { createAppStores } from './app-stores.ts';
import { describeTabs } from '../terminals/tab-memory.ts';

const session: SessionInfo = {
  user: 'alice',
  roles: ['dev'],
  logins: ['root'],
  validUntil: '2030-01-01T00:00:00Z',
  expired: false,
  deviceTrusted: false,
  deviceTrustState: 'not-enrolled',
  deviceTrustMode: 'optional',
  deviceTrustRequired: false,
};
const cluster: ClusterSummary = {
  proxy: 'a:3080',
  clusterName: 'alpha',
  secondFactor: 'off',
  caFingerprint: 'SHA256:abc',
  current: true,
  session,
};
const server = (name: string): ServerSummary => ({
  name,
  address: `${name}:3022`,
  hostname: name,
  labels: {},
  logins: ['root'],
});
const gateway = (id: string, over: Partial<DbGatewaySummary> = {}): DbGatewaySummary => ({
  kind: 'db',
  id,
  proxy: 'a:3080',
  localAddress: '127.0.0.1',
  localPort: 5433,
  connections: 0,
  database: 'orders',
  protocol: 'postgres',
  dbUser: 'alice',
  clientCommand: 'psql',
  ...over,
});

function world(extra: Handlers = {}, storage = new MemoryStorage()) {
  let n = 0;
  const fake = createFakeApi({
    'app.info': () => ok({ version: '1', host: 'browser', platform: 'linux' }),
    'clusters.list': () => ok([cluster]),
    'gateways.list': () => ok([]),
    'terminals.open': () => ok({ terminalId: `t${++n}` }),
    'terminals.close': () => ok(null),
    'auth.logout': () => ok(null),
    ...extra,
  });
  return { fake, storage, s: createAppStores(fake.api, () => {}, undefined, storage) };
}

test('closing a live tab asks first; Cancel keeps it, "Close session" closes it; an ended tab closes at once', async () => {
  const { s, fake } = world();
  s.actions.connect('a:3080', server('web'), 'root');
  const id = s.terminals.getState().tabs[0]!.id;
  await s.terminals.getState().start(id, 80, 24);

  s.actions.requestCloseTab(id);
  assert.deepEqual(s.ui.getState().confirm, { kind: 'close-tab', tabId: id, title: 'root@web' });
  await s.actions.answerConfirm(false);
  assert.equal(s.ui.getState().confirm, undefined);
  assert.equal(s.terminals.getState().tabs.length, 1);

  s.actions.requestCloseTab(id);
  await s.actions.answerConfirm(true);
  assert.equal(s.terminals.getState().tabs.length, 0);
  assert.deepEqual(fake.callsTo('terminals.close'), [{ terminalId: 't1' }]);

  s.actions.connect('a:3080', server('db'), 'root');
  const ended = s.terminals.getState().tabs[0]!.id;
  await s.terminals.getState().start(ended, 80, 24);
  fake.emit('terminals.exit', { terminalId: 't2', exitCode: 0 });
  s.actions.requestCloseTab(ended);
  assert.equal(s.ui.getState().confirm, undefined);
  assert.equal(s.terminals.getState().tabs.length, 0);
});

test('logging out with tabs open asks "Log out of <cluster>?"; without tabs it logs out at once', async () => {
  const { s, fake } = world();
  await s.actions.start();
  s.actions.connect('a:3080', server('web'), 'root');
  s.actions.requestLogout('a:3080');
  assert.deepEqual(s.ui.getState().confirm, { kind: 'logout', proxy: 'a:3080', clusterName: 'alpha' });
  assert.equal(fake.callsTo('auth.logout').length, 0);
  await s.actions.answerConfirm(true);
  assert.deepEqual(fake.callsTo('auth.logout'), [{ proxy: 'a:3080' }]);
  assert.equal(s.terminals.getState().tabs.length, 0);

  s.actions.requestLogout('a:3080');
  await new Promise((r) => setImmediate(r));
  assert.equal(s.ui.getState().confirm, undefined);
  assert.equal(fake.callsTo('auth.logout').length, 2);
});

test('after a restart the remembered tabs are offered once; "Reopen tabs" opens them, a gateway on any port if its own is taken', async () => {
  const first = world({ 'gateways.createDb': () => ok(gateway('g1')) });
  await first.s.actions.start();
  first.s.actions.connect('a:3080', server('web'), 'root');
  await first.s.actions.connectDatabase('a:3080', { name: 'orders', protocol: 'postgres' } as never, {
    dbUser: 'alice',
  });
  first.s.dispose();

  // The next start: the gateway is gone from main; its port 5433 is now taken by something else.
  const second = world(
    {
      'gateways.createDb': (input) =>
        input.port ? fail(ErrorCode.CONFLICT, 'in use') : ok(gateway('g2', { localPort: 6000 })),
    },
    first.storage,
  );
  await second.s.actions.start();
  const offer = pendingReopen(second.s.reopen!.getState(), 'a:3080', new Map());
  assert.deepEqual(
    offer.map((d) => d.kind),
    ['terminal', 'db-gateway'],
  );
  await second.s.actions.reopenTabs('a:3080', offer);
  assert.deepEqual(
    second.s.terminals.getState().tabs.map((t) => t.title),
    ['root@web'],
  );
  assert.equal(second.fake.callsTo('gateways.createDb').length, 2);
  assert.equal(second.s.ui.getState().view, 'terminals');
  assert.deepEqual(second.s.reopen!.getState().offers, {});

  // Remembered again as they are now, and not offered twice in this window.
  const third = world({}, first.storage);
  await third.s.actions.start();
  assert.equal(pendingReopen(third.s.reopen!.getState(), 'a:3080', new Map()).length, 2);
});

test('"Not now" forgets the offer; tabs opened meanwhile are remembered; gateways still open in main are not offered', async () => {
  const storage = new MemoryStorage();
  storage.setItem(
    'gatehouse.openTabs.a:3080',
    JSON.stringify([
      { kind: 'terminal', proxy: 'a:3080', node: 'old', login: 'root' },
      { kind: 'db-gateway', proxy: 'a:3080', database: 'orders', protocol: 'postgres', dbUser: 'alice', port: 5433 },
    ]),
  );
  const { s } = world({ 'gateways.list': () => ok([gateway('g1')]) }, storage);
  await s.actions.start();
  const open = describeTabs(
    s.terminals.getState().tabs,
    s.gateways.getState().tabs.map((t) => t.gateway),
  );
  assert.deepEqual(
    pendingReopen(s.reopen!.getState(), 'a:3080', open).map((d) => d.kind),
    ['terminal'],
  );
  // Opening a tab before deciding keeps the offer in the memory too (a crash now loses nothing).
  s.actions.connect('a:3080', server('new'), 'root');
  assert.match(storage.getItem('gatehouse.openTabs.a:3080')!, /"old".*"new"/s);

  s.actions.dismissReopen('a:3080');
  assert.deepEqual(s.reopen!.getState().offers, {});
  const remembered = storage.getItem('gatehouse.openTabs.a:3080')!;
  assert.doesNotMatch(remembered, /"old"/);
  assert.match(remembered, /"new"/);
});

test('Ctrl+1…9 and Ctrl+Tab walk the strip: terminals, then gateways, wrapping; 9 is the last', async () => {
  const { s } = world({ 'gateways.list': () => ok([gateway('g1')]) });
  await s.actions.start();
  s.actions.connect('a:3080', server('one'), 'root');
  s.actions.connect('a:3080', server('two'), 'root');
  const [one, two] = s.terminals.getState().tabs.map((t) => t.id);
  s.actions.selectTabAt(1);
  assert.equal(s.terminals.getState().activeTabId, one);
  s.actions.selectTabAt(9);
  assert.deepEqual([s.ui.getState().view, s.gateways.getState().activeGatewayId], ['gateway', 'g1']);
  s.actions.cycleTab(1);
  assert.deepEqual([s.ui.getState().view, s.terminals.getState().activeTabId], ['terminals', one]);
  s.actions.cycleTab(-1);
  assert.equal(s.ui.getState().view, 'gateway');
  s.actions.cycleTab(-1);
  assert.deepEqual([s.ui.getState().view, s.terminals.getState().activeTabId], ['terminals', two]);
  s.actions.selectTabAt(5);
  assert.equal(s.terminals.getState().activeTabId, two, 'no 5th tab: nothing changes');
  s.ui.getState().showServers();
  s.actions.cycleTab(1);
  assert.equal(s.terminals.getState().activeTabId, one);
});
