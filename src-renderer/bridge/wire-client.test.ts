import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src-shared/errors.ts';
import { ipcSocketUrl, splitLaunchToken } from './launch-token.ts';
import { createWireClient, LOST_CONNECTION_MESSAGE, type OutgoingFrame } from './wire-client.ts';

function harness() {
  const sent: OutgoingFrame[] = [];
  const warnings: string[] = [];
  const client = createWireClient({
    send: (frame) => sent.push(JSON.parse(frame) as OutgoingFrame),
    warn: (m) => warnings.push(m),
  });
  const reply = (frame: unknown) => client.receive(JSON.stringify(frame));
  return { sent, warnings, client, reply, api: client.api };
}

test('a call is an invoke frame and resolves with the matching result', async () => {
  const { sent, api, reply } = harness();
  const listing = api.clusters.list({});
  const adding = api.clusters.add({ proxy: 'p:3080' });
  assert.deepEqual(sent, [
    { type: 'invoke', id: 1, channel: 'clusters.list', input: {} },
    { type: 'invoke', id: 2, channel: 'clusters.add', input: { proxy: 'p:3080' } },
  ]);
  // Answers may come in any order.
  reply({ type: 'result', id: 2, result: { ok: false, error: { code: 'PROXY_UNREACHABLE', message: 'no' } } });
  reply({ type: 'result', id: 1, result: { ok: true, value: [] } });
  assert.deepEqual(await listing, { ok: true, value: [] });
  assert.deepEqual(await adding, { ok: false, error: { code: 'PROXY_UNREACHABLE', message: 'no' } });
});

test('every channel of the contract is callable', () => {
  const { api, sent } = harness();
  void api.app.info({});
  void api.auth.login({ proxy: 'p', user: 'u', password: 'pw' });
  void api.resources.listServers({ proxy: 'p' });
  void api.terminals.resize({ terminalId: 't1', cols: 80, rows: 24 });
  void api.shell.openExternal({ url: 'https://example.com' });
  assert.deepEqual(
    sent.map((f) => (f.type === 'invoke' ? f.channel : f.type)),
    ['app.info', 'auth.login', 'resources.listServers', 'terminals.resize', 'shell.openExternal'],
  );
});

test('events reach their listeners until unsubscribed', () => {
  const { api, reply } = harness();
  const got: unknown[] = [];
  const off = api.events.on('auth.expired', (p) => got.push(p));
  reply({ type: 'event', event: 'auth.expired', payload: { proxy: 'p' } });
  reply({ type: 'event', event: 'terminals.exit', payload: { terminalId: 't1', exitCode: 0 } });
  off();
  reply({ type: 'event', event: 'auth.expired', payload: { proxy: 'q' } });
  assert.deepEqual(got, [{ proxy: 'p' }]);
});

test('a terminal stream attaches, carries data both ways and detaches', () => {
  const { api, reply, sent } = harness();
  const stream = api.terminalStream.attach('t3');
  const got: string[] = [];
  stream.onData((d) => got.push(d));
  stream.write('ls\r');
  reply({ type: 'term-data', terminalId: 't3', data: 'a b c\r\n' });
  reply({ type: 'term-data', terminalId: 't4', data: 'not mine' });
  stream.close();
  stream.write('ignored after close');
  reply({ type: 'term-data', terminalId: 't3', data: 'after detach' });
  assert.deepEqual(got, ['a b c\r\n']);
  assert.deepEqual(sent, [
    { type: 'term-attach', terminalId: 't3' },
    { type: 'term-input', terminalId: 't3', data: 'ls\r' },
    { type: 'term-detach', terminalId: 't3' },
  ]);
});

test('losing the socket settles pending calls with INTERNAL and fails new ones at once', async () => {
  const { api, client } = harness();
  const lost: string[] = [];
  client.onLost((m) => lost.push(m));
  const pending = api.clusters.list({});
  client.fail('socket closed (1006)');
  client.fail('again'); // only once
  const r = await pending;
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.error.code, ErrorCode.INTERNAL);
  assert.equal(!r.ok && r.error.message, LOST_CONNECTION_MESSAGE);
  assert.deepEqual(!r.ok && r.error.details, { disconnected: true, reason: 'socket closed (1006)' });
  const later = await api.auth.logout({ proxy: 'p' });
  assert.equal(!later.ok && later.error.message, LOST_CONNECTION_MESSAGE);
  assert.deepEqual(lost, [LOST_CONNECTION_MESSAGE]);
  const lateListener: string[] = [];
  client.onLost((m) => lateListener.push(m));
  assert.deepEqual(lateListener, [LOST_CONNECTION_MESSAGE], 'a listener added after the loss hears it too');
  assert.equal(client.lost, true);
});

test('a send that throws counts as a lost connection', async () => {
  const client = createWireClient({
    send: () => {
      throw new Error('WebSocket is already in CLOSING or CLOSED state');
    },
  });
  const r = await client.api.clusters.list({});
  assert.equal(!r.ok && r.error.message, LOST_CONNECTION_MESSAGE);
  assert.equal(client.lost, true);
});

test('malformed frames and unknown results are ignored with a warning', () => {
  const { client, warnings, reply } = harness();
  client.receive('not json');
  reply({ type: 'mystery' });
  reply({ type: 'result', id: 99, result: { ok: true, value: null } });
  assert.equal(warnings.length, 3);
});

test('launch token comes out of the hash; other hash parameters stay', () => {
  assert.deepEqual(splitLaunchToken('#token=abc_-123'), { token: 'abc_-123', restHash: '' });
  assert.deepEqual(splitLaunchToken('#view=x&token=abc'), { token: 'abc', restHash: '#view=x' });
  assert.deepEqual(splitLaunchToken(''), { token: undefined, restHash: '' });
  assert.deepEqual(splitLaunchToken('#token='), { token: undefined, restHash: '' });
  assert.equal(ipcSocketUrl('http://127.0.0.1:4567/index.html', 'a+b'), 'ws://127.0.0.1:4567/ipc?token=a%2Bb');
});
