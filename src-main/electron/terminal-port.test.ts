// Both ends of the terminal MessagePort, driven over real node:worker_threads MessageChannels
// (the same postMessage/close semantics as Electron's MessagePortMain and the DOM MessagePort).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { MAX_TERMINAL_INPUT } from './bridge-protocol.ts';
import { bridgeTerminalPort, createPortTerminalStream, type MainPort, type RendererPort } from './terminal-port.ts';

/** Node's port delivers the value itself to 'message' listeners; Electron's gives { data }. */
function asMainPort(p: MessagePort): MainPort {
  return {
    postMessage: (d) => p.postMessage(d),
    on(event: 'message' | 'close', listener: (e: { data: unknown }) => void) {
      if (event === 'message') p.on('message', (data) => listener({ data }));
      else p.on('close', listener as () => void);
      return undefined;
    },
    start: () => p.start(),
    close: () => p.close(),
  } as MainPort;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (d: Uint8Array) => new TextDecoder().decode(d);

function fakeTerminal() {
  const state = { written: [] as string[], flow: [] as string[], detached: 0, emit: (_d: Uint8Array) => {} };
  const attach = (onData: (d: Uint8Array) => void) => {
    state.emit = onData;
    return {
      write: (d: Uint8Array) => state.written.push(text(d)),
      pause: () => state.flow.push('pause'),
      resume: () => state.flow.push('resume'),
      parsed: (bytes: number) => state.flow.push(`parsed ${bytes}`),
      detach: () => state.detached++,
    };
  };
  return { state, attach };
}

const until = async (cond: () => boolean, what: string) => {
  const deadline = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('keys typed before the port arrives are sent in order once it does; output reaches onData', async () => {
  const { port1, port2 } = new MessageChannel();
  const term = fakeTerminal();
  const end = bridgeTerminalPort(asMainPort(port1), term.attach);
  const pending = createPortTerminalStream();
  const got: string[] = [];
  pending.stream.onData((d) => got.push(text(d)));
  pending.stream.write('l');
  pending.stream.pause();
  pending.stream.write('s\r');
  pending.bind(port2 as unknown as RendererPort);
  pending.stream.write('exit €\r');
  pending.stream.resume();
  pending.stream.parsed(65536);
  await until(() => term.state.written.length === 3 && term.state.flow.length === 3, 'input at main');
  assert.deepEqual(term.state.written, ['l', 's\r', 'exit €\r']);
  assert.deepEqual(term.state.flow, ['pause', 'resume', 'parsed 65536']);
  term.state.emit(utf8('hello\r\n'));
  await until(() => got.length === 1, 'output at renderer');
  assert.deepEqual(got, ['hello\r\n']);
  end();
  assert.equal(term.state.detached, 1);
});

test('closing the stream in the renderer detaches the terminal in main', async () => {
  const { port1, port2 } = new MessageChannel();
  const term = fakeTerminal();
  bridgeTerminalPort(asMainPort(port1), term.attach);
  const pending = createPortTerminalStream();
  pending.bind(port2 as unknown as RendererPort);
  pending.stream.close();
  await until(() => term.state.detached === 1, 'detach');
  pending.stream.write('late');
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(term.state.written, []);
});

test('a stream closed before main answered closes the port it then gets, so main detaches', async () => {
  const { port1, port2 } = new MessageChannel();
  const term = fakeTerminal();
  bridgeTerminalPort(asMainPort(port1), term.attach);
  const pending = createPortTerminalStream();
  pending.stream.write('queued');
  pending.stream.close();
  pending.bind(port2 as unknown as RendererPort);
  await until(() => term.state.detached === 1, 'detach');
  assert.deepEqual(term.state.written, [], 'queued input of a closed stream is dropped');
});

test('main ignores input that is not bytes or is too large; a big paste arrives in pieces', async () => {
  const { port1, port2 } = new MessageChannel();
  const term = fakeTerminal();
  const end = bridgeTerminalPort(asMainPort(port1), term.attach);
  port2.postMessage({ evil: true });
  port2.postMessage('ls\r');
  port2.postMessage(new Uint8Array(MAX_TERMINAL_INPUT + 1));
  port2.postMessage(utf8('ok'));
  await until(() => term.state.written.length === 1, 'the valid message');
  assert.deepEqual(term.state.written, ['ok']);
  const pending = createPortTerminalStream();
  const { port1: main2, port2: renderer2 } = new MessageChannel();
  const term2 = fakeTerminal();
  bridgeTerminalPort(asMainPort(main2), term2.attach);
  pending.bind(renderer2 as unknown as RendererPort);
  pending.stream.write('y'.repeat(MAX_TERMINAL_INPUT + 5));
  await until(() => term2.state.written.length === 2, 'the paste');
  assert.deepEqual(
    term2.state.written.map((w) => w.length),
    [MAX_TERMINAL_INPUT, 5],
  );
  pending.stream.close();
  end();
  port2.close();
});

test('output that is not bytes, from a confused port, is not passed to the renderer', async () => {
  const { port1, port2 } = new MessageChannel();
  const pending = createPortTerminalStream();
  const got: unknown[] = [];
  pending.stream.onData((d) => got.push(d));
  pending.bind(port2 as unknown as RendererPort);
  port1.postMessage({ not: 'bytes' });
  port1.postMessage('a string');
  port1.postMessage(utf8('bytes'));
  await until(() => got.length === 1, 'bytes');
  assert.deepEqual(
    got.map((d) => text(d as Uint8Array)),
    ['bytes'],
  );
  pending.stream.close();
  port1.close();
});
