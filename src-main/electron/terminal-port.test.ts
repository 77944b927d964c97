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

function fakeTerminal() {
  const state = { written: [] as string[], detached: 0, emit: (_d: string) => {} };
  const attach = (onData: (d: string) => void) => {
    state.emit = onData;
    return { write: (d: string) => state.written.push(d), detach: () => state.detached++ };
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
  pending.stream.onData((d) => got.push(d));
  pending.stream.write('l');
  pending.stream.write('s\r');
  pending.bind(port2 as unknown as RendererPort);
  pending.stream.write('exit\r');
  await until(() => term.state.written.length === 3, 'input at main');
  assert.deepEqual(term.state.written, ['l', 's\r', 'exit\r']);
  term.state.emit('hello\r\n');
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

test('main ignores input that is not a string or is too large', async () => {
  const { port1, port2 } = new MessageChannel();
  const term = fakeTerminal();
  const end = bridgeTerminalPort(asMainPort(port1), term.attach);
  port2.postMessage({ evil: true });
  port2.postMessage(new Uint8Array([1, 2]));
  port2.postMessage('x'.repeat(MAX_TERMINAL_INPUT + 1));
  port2.postMessage('ok');
  await until(() => term.state.written.length === 1, 'the valid message');
  assert.deepEqual(term.state.written, ['ok']);
  end();
  port2.close();
});

test('non-string output from a confused port is not passed to the renderer', async () => {
  const { port1, port2 } = new MessageChannel();
  const pending = createPortTerminalStream();
  const got: unknown[] = [];
  pending.stream.onData((d) => got.push(d));
  pending.bind(port2 as unknown as RendererPort);
  port1.postMessage({ not: 'text' });
  port1.postMessage('text');
  await until(() => got.length === 1, 'text');
  assert.deepEqual(got, ['text']);
  pending.stream.close();
  port1.close();
});
