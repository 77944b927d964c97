import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterSummary, ServerSummary, SessionInfo } from '../../src-main/ipc/contract.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import { clusterProbe, createFakeApi, FAKE_CA_FINGERPRINT, fail, ok } from '../test-support/fake-api.ts';
import { createAppStores } from './app-stores.ts';
import { loginFor, queryFor } from './servers-store.ts';
import { currentCluster } from './session-store.ts';
import { exitSummary } from './terminals-store.ts';

const session = (over: Partial<SessionInfo> = {}): SessionInfo => ({
  user: 'alice',
  roles: ['dev'],
  logins: ['root', 'alice'],
  validUntil: '2030-01-01T00:00:00Z',
  expired: false,
  deviceTrusted: false,
  deviceTrustState: 'not-enrolled',
  deviceTrustMode: 'optional',
  deviceTrustRequired: false,
  ...over,
});
const cluster = (proxy: string, over: Partial<ClusterSummary> = {}): ClusterSummary => ({
  proxy,
  clusterName: proxy.split(':')[0]!,
  secondFactor: 'off',
  caFingerprint: 'SHA256:abc',
  current: false,
  ...over,
});
const server = (name: string, logins = ['root', 'alice']): ServerSummary => ({
  name,
  address: `${name}:3022`,
  hostname: name,
  labels: {},
  logins,
});
const tick = () => new Promise((r) => setImmediate(r));

test('adding a cluster normalises the address, shows the CA to confirm, then adds with it and selects it', async () => {
  let list: ClusterSummary[] = [];
  const fake = createFakeApi({
    'clusters.list': () => ok(list),
    'clusters.probe': ({ proxy }) => ok(clusterProbe(proxy)),
    'clusters.add': ({ proxy }) => ok(cluster(proxy)),
    'clusters.select': ({ proxy }) => {
      list = [cluster(proxy, { current: true })];
      return ok(null);
    },
    'app.info': () => ok({ version: '1', host: 'browser', platform: 'linux' }),
  });
  const s = createAppStores(fake.api);
  await s.actions.start();
  assert.equal(s.session.getState().phase, 'ready');
  assert.equal(currentCluster(s.session.getState()), undefined);

  s.ui.getState().setAddingCluster(true);
  assert.equal(await s.actions.probeCluster(' https://demo:3080/ '), undefined);
  const probe = s.session.getState().addForm.probe!;
  assert.deepEqual(probe, clusterProbe('demo:3080'));
  assert.equal(fake.callsTo('clusters.add').length, 0, 'nothing is trusted before the person confirms');
  assert.equal(s.ui.getState().addingCluster, true);

  const added = await s.actions.addCluster(probe);
  assert.equal(added?.proxy, 'demo:3080');
  assert.deepEqual(fake.callsTo('clusters.add'), [{ proxy: 'demo:3080', caFingerprint: FAKE_CA_FINGERPRINT }]);
  assert.equal(s.session.getState().addForm.probe, undefined);
  assert.deepEqual(fake.callsTo('clusters.select'), [{ proxy: 'demo:3080' }]);
  assert.equal(currentCluster(s.session.getState())?.proxy, 'demo:3080');
  assert.equal(s.ui.getState().addingCluster, false);
});

test('several proxies: each is checked, all are probed and added together, the first keys the cluster', async () => {
  const fake = createFakeApi({
    'clusters.probe': ({ proxy }) => ok(clusterProbe(proxy)),
    'clusters.add': ({ proxy }) => ok(cluster(proxy.split(',')[0]!, { proxies: proxy.split(',') })),
    'clusters.select': () => ok(null),
    'clusters.list': () => ok([cluster('a:3080', { current: true, proxies: ['a:3080', 'b:3080'] })]),
  });
  const s = createAppStores(fake.api);
  assert.equal(await s.actions.probeCluster('a:3080, https://b:3080/, a:3080'), undefined);
  assert.deepEqual(fake.callsTo('clusters.probe'), [{ proxy: 'a:3080,b:3080' }]);
  const probe = s.session.getState().addForm.probe!;
  assert.deepEqual(probe.proxies, ['a:3080', 'b:3080']);
  await s.actions.addCluster(probe);
  assert.deepEqual(fake.callsTo('clusters.add'), [{ proxy: 'a:3080,b:3080', caFingerprint: FAKE_CA_FINGERPRINT }]);
  assert.deepEqual(currentCluster(s.session.getState())?.proxies, ['a:3080', 'b:3080']);

  assert.equal(await s.actions.probeCluster('a:3080, b:99999, c/x'), undefined);
  const problem = s.session.getState().addForm.problem!;
  assert.match(problem, /“b:99999”: The port must be a number from 1 to 65535\./);
  assert.match(problem, /“c\/x”: Enter only the host and port/);
  assert.equal(fake.callsTo('clusters.probe').length, 1, 'main is not asked about a list with a bad address');
});

test('a malformed address is explained without calling main; main errors are kept for the form', async () => {
  const fake = createFakeApi({
    'clusters.probe': () => fail(ErrorCode.PROXY_UNREACHABLE, 'cannot reach the proxy at nowhere:1'),
  });
  const s = createAppStores(fake.api);
  assert.equal(await s.actions.probeCluster('ftp://x'), undefined);
  assert.match(s.session.getState().addForm.problem!, /ftp/);
  assert.equal(fake.calls.length, 0);
  assert.equal(await s.actions.probeCluster('nowhere:1'), undefined);
  assert.equal(s.session.getState().addForm.error?.code, ErrorCode.PROXY_UNREACHABLE);
  assert.equal(s.session.getState().addForm.pending, false);
});

test('a CA that changed between probe and add is refused and stays on the confirmation; Cancel trusts nothing', async () => {
  const fake = createFakeApi({
    'clusters.probe': ({ proxy }) => ok(clusterProbe(proxy)),
    'clusters.add': () => fail(ErrorCode.PROXY_UNTRUSTED, 'the proxy now shows another CA'),
  });
  const s = createAppStores(fake.api);
  await s.actions.probeCluster('demo:3080');
  const probe = s.session.getState().addForm.probe!;
  assert.equal(await s.actions.addCluster(probe), undefined);
  assert.equal(s.session.getState().addForm.error?.code, ErrorCode.PROXY_UNTRUSTED);
  assert.deepEqual(s.session.getState().addForm.probe, probe);
  s.session.getState().cancelProbe();
  assert.deepEqual(s.session.getState().addForm, { pending: false });
});

test('probing a proxy that is already in the list selects it without asking again', async () => {
  const fake = createFakeApi({
    'clusters.probe': ({ proxy }) => ok(clusterProbe(proxy, { known: true })),
    'clusters.add': ({ proxy }) => ok(cluster(proxy)),
    'clusters.select': () => ok(null),
    'clusters.list': () => ok([cluster('demo:3080', { current: true })]),
  });
  const s = createAppStores(fake.api);
  s.ui.getState().setAddingCluster(true);
  assert.equal((await s.actions.probeCluster('demo:3080'))?.proxy, 'demo:3080');
  assert.equal(s.ui.getState().addingCluster, false);
});

test('login stores the session and loads servers; a bad password keeps the form error', async () => {
  let password = 'wrong';
  const fake = createFakeApi({
    'clusters.list': () => ok([cluster('demo:3080', { current: true })]),
    'app.info': () => ok({ version: '1', host: 'browser', platform: 'linux' }),
    'auth.login': (input) =>
      input.password === password ? ok(session()) : fail(ErrorCode.BAD_CREDENTIALS, 'invalid credentials'),
    'resources.listServers': () => ok([server('b'), server('a')]),
  });
  const s = createAppStores(fake.api);
  await s.actions.start();
  assert.equal(await s.actions.login({ proxy: 'demo:3080', user: ' alice ', password: 'x', otp: '  ' }), false);
  assert.equal(s.session.getState().loginForm.error?.code, ErrorCode.BAD_CREDENTIALS);
  assert.deepEqual(fake.callsTo('auth.login')[0], { proxy: 'demo:3080', user: 'alice', password: 'x' });
  password = 'right';
  assert.equal(await s.actions.login({ proxy: 'demo:3080', user: 'alice', password: 'right', otp: '123456' }), true);
  assert.deepEqual(fake.callsTo('auth.login')[1], {
    proxy: 'demo:3080',
    user: 'alice',
    password: 'right',
    otp: '123456',
  });
  assert.equal(s.session.getState().loginForm.error, undefined);
  assert.equal(currentCluster(s.session.getState())?.session?.user, 'alice');
  await tick();
  assert.deepEqual(
    s.servers.getState().byProxy['demo:3080']?.servers.map((x) => x.name),
    ['a', 'b'],
  );
});

test('auth.expired and CERT_EXPIRED results mark the session expired', async () => {
  const fake = createFakeApi({
    'clusters.list': () =>
      ok([cluster('a:1', { current: true, session: session() }), cluster('b:1', { session: session() })]),
    'app.info': () => ok({ version: '1', host: 'browser', platform: 'linux' }),
    'resources.listServers': () => fail(ErrorCode.CERT_EXPIRED, 'certificate expired'),
  });
  const s = createAppStores(fake.api);
  await s.actions.start();
  fake.emit('auth.expired', { proxy: 'b:1' });
  const expired = () => s.session.getState().clusters.map((c) => c.session?.expired);
  assert.deepEqual(expired(), [false, true]);
  await s.servers.getState().load('a:1');
  assert.deepEqual(expired(), [true, true]);
  assert.equal(s.servers.getState().byProxy['a:1']?.status, 'failed');
  s.dispose();
});

test('a slow old server list does not overwrite a newer one', async () => {
  const answers: Array<(servers: ServerSummary[]) => void> = [];
  const fake = createFakeApi({
    'resources.listServers': () => new Promise((resolve) => answers.push((v) => resolve(ok(v)))),
  });
  const s = createAppStores(fake.api);
  const first = s.servers.getState().load('p');
  const second = s.servers.getState().load('p');
  answers[1]!([server('new')]);
  await second;
  answers[0]!([server('old')]);
  await first;
  assert.deepEqual(
    s.servers.getState().byProxy.p?.servers.map((x) => x.name),
    ['new'],
  );
});

test('the login box defaults to the first login and remembers a valid choice', () => {
  const s = createAppStores(createFakeApi().api);
  const srv = server('n1', ['ubuntu', 'root']);
  assert.equal(loginFor(s.servers.getState(), 'p', srv), 'ubuntu');
  s.servers.getState().chooseLogin('p', 'n1', 'root');
  assert.equal(loginFor(s.servers.getState(), 'p', srv), 'root');
  assert.equal(loginFor(s.servers.getState(), 'other', srv), 'ubuntu');
  assert.equal(loginFor(s.servers.getState(), 'p', server('n1', ['admin'])), 'admin', 'stale choice ignored');
  assert.equal(loginFor(s.servers.getState(), 'p', server('n2', [])), '');
});

test('a terminal tab opens, ends with its exit status and reconnects', async () => {
  let n = 0;
  const fake = createFakeApi({
    'terminals.open': () => ok({ terminalId: `t${++n}` }),
    'terminals.resize': () => ok(null),
    'terminals.close': () => ok(null),
  });
  const s = createAppStores(fake.api);
  s.actions.connect('p', server('web'), 'root');
  assert.equal(s.ui.getState().view, 'terminals');
  const [tab] = s.terminals.getState().tabs;
  assert.equal(tab?.title, 'root@web');
  assert.equal(s.terminals.getState().activeTabId, tab!.id);

  await Promise.all([s.terminals.getState().start(tab!.id, 100, 30), s.terminals.getState().start(tab!.id, 100, 30)]);
  assert.deepEqual(fake.callsTo('terminals.open'), [{ proxy: 'p', node: 'web', login: 'root', cols: 100, rows: 30 }]);
  assert.deepEqual(s.terminals.getState().tabs[0]!.state, { kind: 'open', terminalId: 't1' });

  s.terminals.getState().resize(tab!.id, 120, 40);
  assert.deepEqual(fake.callsTo('terminals.resize'), [{ terminalId: 't1', cols: 120, rows: 40 }]);

  fake.emit('terminals.exit', { terminalId: 't1', exitCode: 3 });
  const ended = s.terminals.getState().tabs[0]!.state;
  assert.equal(ended.kind, 'ended');
  assert.equal(
    ended.kind === 'ended' && exitSummary(ended),
    'Session ended: the shell exited with status 3 (the last command failed or the shell was told to exit).',
  );

  s.terminals.getState().reconnect(tab!.id);
  assert.equal(s.terminals.getState().tabs[0]!.attempt, 2);
  await s.terminals.getState().start(tab!.id, 120, 40);
  assert.deepEqual(s.terminals.getState().tabs[0]!.state, { kind: 'open', terminalId: 't2' });

  s.actions.closeTab(tab!.id);
  await tick();
  assert.deepEqual(fake.callsTo('terminals.close'), [{ terminalId: 't2' }]);
  assert.deepEqual(s.terminals.getState().tabs, []);
  assert.equal(s.ui.getState().view, 'servers');
});

test('a refused terminal shows the error; an exit that overtakes open() is not lost', async () => {
  const fake = createFakeApi({
    'terminals.open': (input) => {
      if (input.node === 'db') return fail(ErrorCode.ACCESS_DENIED, 'ssh: rejected: administratively prohibited (no)');
      fake.emit('terminals.exit', { terminalId: 't9', exitCode: null, signal: 'KILL' });
      return ok({ terminalId: 't9' });
    },
  });
  const s = createAppStores(fake.api);
  const denied = s.terminals.getState().openTab('p', 'db', 'root');
  await s.terminals.getState().start(denied, 80, 24);
  const refused = s.terminals.getState().tabs[0]!.state;
  assert.equal(refused.kind === 'failed' && refused.error.code, ErrorCode.ACCESS_DENIED);

  const quick = s.terminals.getState().openTab('p', 'web', 'root');
  await s.terminals.getState().start(quick, 80, 24);
  const st = s.terminals.getState().tabs[1]!.state;
  assert.equal(
    st.kind === 'ended' && exitSummary(st),
    'Session ended: the shell was killed on the server (signal KILL).',
  );
});

test('closing a tab while its shell is opening closes that shell when it arrives', async () => {
  let release!: () => void;
  const fake = createFakeApi({
    'terminals.open': () =>
      new Promise((resolve) => {
        release = () => resolve(ok({ terminalId: 't5' }));
      }),
    'terminals.close': () => ok(null),
  });
  const s = createAppStores(fake.api);
  const id = s.terminals.getState().openTab('p', 'web', 'root');
  const starting = s.terminals.getState().start(id, 80, 24);
  s.actions.closeTab(id);
  release();
  await starting;
  await tick();
  assert.deepEqual(fake.callsTo('terminals.close'), [{ terminalId: 't5' }]);
});

test('closing the active tab activates its neighbour; logging out closes that cluster’s tabs', async () => {
  const fake = createFakeApi({
    'auth.logout': () => ok(null),
    'clusters.list': () => ok([cluster('p', { current: true })]),
  });
  const s = createAppStores(fake.api);
  const a = s.terminals.getState().openTab('p', 'a', 'root');
  const b = s.terminals.getState().openTab('q', 'b', 'root');
  const c = s.terminals.getState().openTab('p', 'c', 'root');
  s.actions.selectTab(b);
  s.actions.closeTab(b);
  assert.equal(s.terminals.getState().activeTabId, c);
  s.actions.closeTab(c);
  assert.equal(s.terminals.getState().activeTabId, a);
  s.terminals.getState().openTab('q', 'd', 'root');
  await s.actions.logout('p');
  assert.deepEqual(
    s.terminals.getState().tabs.map((t) => t.title),
    ['root@d'],
  );
  assert.deepEqual(fake.callsTo('auth.logout'), [{ proxy: 'p' }]);
});

test('a second tab on the same server and login gets a name of its own', () => {
  const s = createAppStores(createFakeApi().api);
  const open = () => s.terminals.getState().openTab('p', 'web', 'root');
  open();
  open();
  open();
  s.terminals.getState().openTab('p', 'web', 'admin');
  assert.deepEqual(
    s.terminals.getState().tabs.map((t) => t.title),
    ['root@web', 'root@web (2)', 'root@web (3)', 'admin@web'],
  );
  s.actions.closeTab(s.terminals.getState().tabs[1]!.id);
  open();
  assert.deepEqual(
    s.terminals.getState().tabs.map((t) => t.title),
    ['root@web', 'root@web (3)', 'admin@web', 'root@web (2)'],
  );
});

test('the search text belongs to its cluster: switching clusters does not filter the other one', () => {
  const s = createAppStores(createFakeApi().api);
  s.servers.getState().setQuery('a:3080', 'env=prod');
  assert.equal(queryFor(s.servers.getState(), 'a:3080'), 'env=prod');
  assert.equal(queryFor(s.servers.getState(), 'b:3080'), '');
  s.servers.getState().setQuery('b:3080', 'web');
  s.servers.getState().forget('a:3080');
  assert.equal(queryFor(s.servers.getState(), 'a:3080'), '');
  assert.equal(queryFor(s.servers.getState(), 'b:3080'), 'web');
});

test('launch: the first screen waits for the cluster list only; app.info and the gateways fill in later', async () => {
  let answerInfo!: () => void;
  let answerGateways!: () => void;
  const fake = createFakeApi({
    'clusters.list': () => ok([cluster('demo:3080', { current: true })]),
    'app.info': () =>
      new Promise((r) => (answerInfo = () => r(ok({ version: '1.2.3', host: 'browser', platform: 'linux' })))),
    'gateways.list': () => new Promise((r) => (answerGateways = () => r(ok([])))),
  });
  const s = createAppStores(fake.api);
  const started = s.actions.start();
  await tick();
  // The login form can render: the list is in though main has not answered the other two yet.
  assert.equal(s.session.getState().phase, 'ready');
  assert.equal(currentCluster(s.session.getState())?.proxy, 'demo:3080');
  assert.equal(s.session.getState().appInfo, undefined);
  answerInfo();
  answerGateways();
  await started;
  await tick();
  assert.equal(s.session.getState().appInfo?.version, '1.2.3');
});
