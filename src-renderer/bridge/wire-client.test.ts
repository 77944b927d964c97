import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src-shared/errors.ts';
import { ipcSocketUrl, splitLaunchToken } from './launch-token.ts';
import {
  MAX_TERMINAL_FRAME_PAYLOAD,
  TerminalFrameKind,
  decodeTerminalFrame,
  encodeTerminalFrame,
} from '../../src-shared/terminal-frame.ts';
import { createWireClient, LOST_CONNECTION_MESSAGE, type OutgoingFrame } from './wire-client.ts';

type Sent = OutgoingFrame | { input: string; terminalId: string; bytes: number };

function harness() {
  const sent: Sent[] = [];
  const warnings: string[] = [];
  const client = createWireClient({
    send: (frame) => {
      if (typeof frame === 'string') return void sent.push(JSON.parse(frame) as OutgoingFrame);
      const { terminalId, data } = decodeTerminalFrame(frame, TerminalFrameKind.input);
      sent.push({ input: new TextDecoder().decode(data), terminalId, bytes: data.byteLength });
    },
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
    sent.map((f) => ('type' in f ? (f.type === 'invoke' ? f.channel : f.type) : 'input')),
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

test('a terminal stream attaches, carries bytes both ways as binary frames, pauses and detaches', () => {
  const { api, client, sent } = harness();
  const output = (id: string, text: string) =>
    client.receive(
      encodeTerminalFrame(TerminalFrameKind.output, id, new TextEncoder().encode(text)).buffer as ArrayBuffer,
    );
  const stream = api.terminalStream.attach('t3');
  const got: string[] = [];
  stream.onData((d) => got.push(new TextDecoder().decode(d)));
  stream.write('ls\r');
  stream.write('€');
  stream.write('');
  output('t3', 'a b c\r\n');
  output('t4', 'not mine');
  stream.pause();
  stream.resume();
  stream.parsed(65536);
  stream.close();
  stream.write('ignored after close');
  stream.pause();
  stream.parsed(1);
  output('t3', 'after detach');
  assert.deepEqual(got, ['a b c\r\n']);
  assert.deepEqual(sent, [
    { type: 'term-attach', terminalId: 't3' },
    { input: 'ls\r', terminalId: 't3', bytes: 3 },
    { input: '€', terminalId: 't3', bytes: 3 },
    { type: 'term-pause', terminalId: 't3' },
    { type: 'term-resume', terminalId: 't3' },
    { type: 'term-parsed', terminalId: 't3', bytes: 65536 },
    { type: 'term-detach', terminalId: 't3' },
  ]);
});

test('a paste larger than one frame goes out in frame-sized pieces, in order', () => {
  const { api, sent } = harness();
  const stream = api.terminalStream.attach('t1');
  stream.write('x'.repeat(MAX_TERMINAL_FRAME_PAYLOAD + 10));
  assert.deepEqual(
    sent.slice(1).map((f) => ('bytes' in f ? f.bytes : f.type)),
    [MAX_TERMINAL_FRAME_PAYLOAD, 10],
  );
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
  client.receive(new Uint8Array([1, 0]));
  client.receive(encodeTerminalFrame(TerminalFrameKind.input, 't1', new Uint8Array([65])));
  assert.equal(warnings.length, 5);
  assert.match(warnings[3]!, /bad terminal frame: .*shorter than its header/);
  assert.match(warnings[4]!, /kind 2 where 1/);
});

test('launch token comes out of the hash; other hash parameters stay', () => {
  assert.deepEqual(splitLaunchToken('#token=abc_-123'), { token: 'abc_-123', restHash: '' });
  assert.deepEqual(splitLaunchToken('#view=x&token=abc'), { token: 'abc', restHash: '#view=x' });
  assert.deepEqual(splitLaunchToken(''), { token: undefined, restHash: '' });
  assert.deepEqual(splitLaunchToken('#token='), { token: undefined, restHash: '' });
  assert.equal(ipcSocketUrl('http://127.0.0.1:4567/index.html', 'a+b'), 'ws://127.0.0.1:4567/ipc?token=a%2Bb');
});
