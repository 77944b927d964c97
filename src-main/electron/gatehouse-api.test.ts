import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestChannels, type IpcResult, type TerminalStream } from '../ipc/contract.ts';
import { buildGatehouseApi, EVENT_CHANNELS, type ApiTransport } from './gatehouse-api.ts';

function fakeTransport() {
  const calls: Array<[string, unknown]> = [];
  let emit: (event: string, payload: unknown) => void = () => assert.fail('not subscribed');
  const attached: string[] = [];
  const transport: ApiTransport = {
    invoke(channel, input) {
      calls.push([channel, input]);
      return Promise.resolve({ ok: true, value: channel } as IpcResult<unknown>);
    },
    subscribeEvents(listener) {
      emit = listener;
    },
    attachTerminal(terminalId) {
      attached.push(terminalId);
      return {
        write() {},
        onData: () => () => {},
        pause() {},
        resume() {},
        parsed() {},
        close() {},
      } satisfies TerminalStream;
    },
  };
  return { transport, calls, attached, emit: (e: string, p: unknown) => emit(e, p) };
}

test('every contract channel becomes api.<namespace>.<method> calling invoke with that channel', async () => {
  const f = fakeTransport();
  const api = buildGatehouseApi(f.transport, requestChannels) as unknown as Record<string, Record<string, unknown>>;
  for (const channel of requestChannels) {
    const [ns, method] = channel.split('.') as [string, string];
    const fn = api[ns]?.[method];
    assert.equal(typeof fn, 'function', channel);
    const result = await (fn as (i: unknown) => Promise<IpcResult<unknown>>)({ probe: channel });
    assert.deepEqual(result, { ok: true, value: channel });
  }
  assert.deepEqual(
    f.calls,
    requestChannels.map((c) => [c, { probe: c }]),
  );
  // Nothing beyond the contract: namespaces, events and terminalStream only.
  const namespaces = new Set(requestChannels.map((c) => c.split('.')[0]));
  assert.deepEqual(Object.keys(api).sort(), [...namespaces, 'events', 'terminalStream'].sort());
  assert.equal('invoke' in api, false);
  assert.equal('ipcRenderer' in api, false);
});

test('a call without input sends {} (channels such as app.info take an empty object)', async () => {
  const f = fakeTransport();
  const api = buildGatehouseApi(f.transport, requestChannels);
  await (api.app.info as unknown as () => Promise<unknown>)();
  assert.deepEqual(f.calls, [['app.info', {}]]);
});

test('channel names cannot reach Object.prototype members', () => {
  const f = fakeTransport();
  const api = buildGatehouseApi(f.transport, ['constructor.x' as never]) as unknown as Record<string, object>;
  assert.equal(Object.getPrototypeOf(api['constructor']), null);
});

test('events.on delivers contract events to their listeners until unsubscribed; unknown ones are dropped', () => {
  const f = fakeTransport();
  const api = buildGatehouseApi(f.transport, requestChannels);
  const seen: unknown[] = [];
  const off = api.events.on('auth.expired', (p) => seen.push(['a', p]));
  api.events.on('terminals.exit', (p) => seen.push(['t', p]));
  f.emit('auth.expired', { proxy: 'p:1' });
  f.emit('terminals.exit', { terminalId: 't1', exitCode: 0 });
  f.emit('something.else', { x: 1 });
  off();
  f.emit('auth.expired', { proxy: 'p:2' });
  assert.deepEqual(seen, [
    ['a', { proxy: 'p:1' }],
    ['t', { terminalId: 't1', exitCode: 0 }],
  ]);
  assert.throws(() => api.events.on('nope' as never, () => {}), /unknown event "nope"/);
  assert.deepEqual([...EVENT_CHANNELS].sort(), [
    'auth.expired',
    'clusters.changed',
    'device.changed',
    'device.enrollProgress',
    'gateways.closed',
    'gateways.status',
    'terminals.exit',
  ]);
});

test('a throwing listener does not keep the event from the next one', (t) => {
  t.mock.method(console, 'error', () => {});
  const f = fakeTransport();
  const api = buildGatehouseApi(f.transport, requestChannels);
  let second = 0;
  api.events.on('auth.expired', () => {
    throw new Error('boom');
  });
  api.events.on('auth.expired', () => second++);
  f.emit('auth.expired', { proxy: 'p:1' });
  assert.equal(second, 1);
});

test('terminalStream.attach hands the id to the transport', () => {
  const f = fakeTransport();
  const api = buildGatehouseApi(f.transport, requestChannels);
  const stream = api.terminalStream.attach('t7');
  assert.equal(typeof stream.write, 'function');
  assert.deepEqual(f.attached, ['t7']);
  assert.throws(() => api.terminalStream.attach(7 as never), /terminalId must be a string/);
});
