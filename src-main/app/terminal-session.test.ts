// TerminalSession's own rules with in-memory streams standing in for the SSH channel (the real
// channel through a real cluster is in src-main/host/integration/host.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { GatehouseError } from '../../src-shared/errors.ts';
import type { ExitStatus } from '../gateways/ssh/ssh-session.ts';
import { silentAppLogger } from './logger.ts';
import { OUTPUT_IN_FLIGHT_LIMIT, TerminalSession, type OpenedShell, type TerminalExit } from './terminal-session.ts';

class FakeShell {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly typed: string[] = [];
  readonly sizes: Array<[number, number]> = [];
  closed = false;
  connectionClosed = false;
  private end!: (s: ExitStatus) => void;
  readonly exit = new Promise<ExitStatus>((r) => (this.end = r));

  constructor() {
    this.stdin.on('data', (b: Buffer) => this.typed.push(b.toString()));
  }
  resize(cols: number, rows: number) {
    this.sizes.push([cols, rows]);
  }
  close() {
    this.closed = true;
    this.end({ code: null });
  }
  finish(s: ExitStatus) {
    this.end(s);
  }
  opened(): OpenedShell {
    return { channel: this, connection: { close: () => (this.connectionClosed = true) } };
  }
}

const tick = () => new Promise((r) => setImmediate(r));
const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString('utf8');

function session(connect: () => Promise<OpenedShell>, bufferLimit?: number) {
  const exits: TerminalExit[] = [];
  const s = new TerminalSession({
    id: 't3',
    cols: 80,
    rows: 24,
    connect,
    onExit: (e) => exits.push(e),
    log: silentAppLogger,
    ...(bufferLimit ? { bufferLimit } : {}),
  });
  return { s, exits };
}

describe('TerminalSession', () => {
  test('output before attach is kept and delivered first; input typed while connecting is sent once open', async () => {
    const shell = new FakeShell();
    let open!: (o: OpenedShell) => void;
    const { s, exits } = session(() => new Promise((r) => (open = r)));
    s.start();
    s.write('echo early\r');
    s.resize(100, 30);
    open(shell.opened());
    await tick();
    assert.deepEqual(shell.typed, ['echo early\r']);
    assert.deepEqual(shell.sizes, [[100, 30]], 'a resize while connecting is applied once open');
    // A multi-byte character split across two chunks: the bytes go on as they are (xterm joins them).
    const euro = Buffer.from('€ ready\r\n');
    shell.stdout.write(euro.subarray(0, 1));
    shell.stdout.write(euro.subarray(1));
    await tick();
    const got: Uint8Array[] = [];
    const a = s.attach((d) => got.push(d));
    assert.equal(got.length, 1, 'what was buffered arrives as one chunk');
    assert.equal(text(got), '€ ready\r\n');
    shell.stdout.write('more');
    await tick();
    assert.equal(text(got), '€ ready\r\nmore');
    a.write('ls\r');
    await tick();
    assert.deepEqual(shell.typed, ['echo early\r', 'ls\r']);
    a.detach();
    shell.stdout.write('while detached');
    await tick();
    assert.equal(text(got), '€ ready\r\nmore');
    shell.finish({ code: 3 });
    await s.ended;
    assert.deepEqual(exits, [{ terminalId: 't3', exitCode: 3 }]);
    assert.ok(shell.connectionClosed);
    const late: Uint8Array[] = [];
    s.attach((d) => late.push(d));
    assert.equal(text(late), 'while detached', 'a tab attaching after the end still sees the last output');
  });

  test('the buffer keeps only the newest output up to its limit', async () => {
    const shell = new FakeShell();
    const { s } = session(async () => shell.opened(), 10);
    s.start();
    await tick();
    shell.stdout.write('0123456789');
    shell.stdout.write('abcdef');
    await tick();
    const got: Uint8Array[] = [];
    s.attach((d) => got.push(d));
    assert.equal(text(got), '6789abcdef');
  });

  test('pause stops reading the channel (input still flows); resume, detach or a new attach reads again', async () => {
    const shell = new FakeShell();
    let open!: (o: OpenedShell) => void;
    const { s } = session(() => new Promise((r) => (open = r)));
    s.start();
    const got: Uint8Array[] = [];
    const first = s.attach((d) => got.push(d));
    first.pause(); // before the shell is open: applied when it opens
    open(shell.opened());
    await tick();
    assert.ok(shell.stdout.isPaused(), 'a pause asked for while connecting holds once open');
    shell.stdout.write('held back');
    first.write('\x03');
    await tick();
    assert.equal(got.length, 0, 'no output while paused');
    assert.deepEqual(shell.typed, ['\x03'], 'Ctrl+C goes out while output is paused');
    first.resume();
    await tick();
    assert.equal(text(got), 'held back');
    first.pause();
    first.detach();
    assert.ok(!shell.stdout.isPaused(), 'detaching releases the pause: output goes to the buffer');
    const second = s.attach(() => {});
    first.pause();
    assert.ok(!shell.stdout.isPaused(), 'a replaced attachment cannot pause the new one');
    second.pause();
    assert.ok(shell.stdout.isPaused());
    s.attach(() => {});
    assert.ok(!shell.stdout.isPaused(), 'a new attachment starts reading');
  });

  test('output delivered and not reported parsed is bounded: past the limit the channel pauses, at half it reads again', async () => {
    const shell = new FakeShell();
    const { s } = session(() => Promise.resolve(shell.opened()));
    s.start();
    await tick();
    let received = 0;
    const a = s.attach((d) => (received += d.byteLength));
    const chunk = Buffer.alloc(64 * 1024, 'y');
    while (received <= OUTPUT_IN_FLIGHT_LIMIT) {
      assert.ok(!shell.stdout.isPaused(), `still reading at ${received} bytes in flight`);
      shell.stdout.write(chunk);
      await tick();
    }
    assert.ok(shell.stdout.isPaused(), 'past the limit the channel is paused');
    a.parsed(received - OUTPUT_IN_FLIGHT_LIMIT / 2 - 1);
    assert.ok(shell.stdout.isPaused(), 'just above half the limit in flight: still paused');
    a.pause();
    a.parsed(1);
    assert.ok(shell.stdout.isPaused(), "at half the limit, the stream's own pause still holds");
    a.resume();
    assert.ok(!shell.stdout.isPaused(), 'neither holds it: reading again');
    a.parsed(10 * OUTPUT_IN_FLIGHT_LIMIT);
    shell.stdout.write(Buffer.alloc(OUTPUT_IN_FLIGHT_LIMIT + 1));
    await tick();
    assert.ok(shell.stdout.isPaused(), 'over-reporting makes no room beyond the limit (the count stops at 0)');
  });

  test('a new attachment starts with nothing in flight', async () => {
    const shell = new FakeShell();
    const { s } = session(() => Promise.resolve(shell.opened()));
    s.start();
    await tick();
    s.attach(() => {});
    shell.stdout.write(Buffer.alloc(OUTPUT_IN_FLIGHT_LIMIT + 1));
    await tick();
    assert.ok(shell.stdout.isPaused());
    let got = 0;
    s.attach((d) => (got += d.byteLength));
    assert.ok(!shell.stdout.isPaused(), 'the old stream never reports what it parsed; the new one reads');
    shell.stdout.write('next');
    await tick();
    assert.equal(got, 4);
  });

  test('a refusal ends the terminal with the mapped error; input afterwards is ignored', async () => {
    const { s, exits } = session(async () => {
      throw new GatehouseError('ACCESS_DENIED', 'ssh: rejected: administratively prohibited (no role allows it)', {
        node: 'n1',
      });
    });
    s.start();
    await s.ended;
    assert.deepEqual(exits, [
      {
        terminalId: 't3',
        exitCode: null,
        error: {
          code: 'ACCESS_DENIED',
          message: 'ssh: rejected: administratively prohibited (no role allows it)',
          details: { node: 'n1' },
        },
      },
    ]);
    s.write('x');
    s.close();
    assert.equal(exits.length, 1, 'the end is reported once');
  });

  test('close ends the remote shell and reports the end once; a lost connection is an error', async () => {
    const shell = new FakeShell();
    const { s, exits } = session(async () => shell.opened());
    s.start();
    await tick();
    s.close();
    s.close();
    await s.ended;
    assert.ok(shell.closed && shell.connectionClosed);
    assert.deepEqual(exits, [{ terminalId: 't3', exitCode: null }]);

    const lost = new FakeShell();
    const other = session(async () => lost.opened());
    other.s.start();
    await tick();
    lost.finish({ code: null });
    const exit = await other.s.ended;
    assert.equal(exit.error?.code, 'NODE_UNREACHABLE');

    const killed = new FakeShell();
    const third = session(async () => killed.opened());
    third.s.start();
    await tick();
    killed.finish({ code: null, signal: 'KILL' });
    assert.deepEqual(await third.s.ended, { terminalId: 't3', exitCode: null, signal: 'KILL' });
  });

  test('closing while still connecting reports the end at once and closes the shell when it arrives', async () => {
    const shell = new FakeShell();
    let open!: (o: OpenedShell) => void;
    const { s, exits } = session(() => new Promise((r) => (open = r)));
    s.start();
    s.close();
    assert.deepEqual(exits, [{ terminalId: 't3', exitCode: null }]);
    open(shell.opened());
    await tick();
    assert.ok(shell.closed && shell.connectionClosed);
    assert.equal(exits.length, 1);
  });

  test('a session the node cut for a lock ends with the lock in error.details; a refusal under a lock too', async () => {
    const shell = new FakeShell();
    const { s } = session(async () => shell.opened());
    s.start();
    await tick();
    shell.stdout.write('alice@node:~$ \r\nlock targeting User:"alice" is in force: laptop stolen\r\n');
    await tick();
    shell.finish({ code: null, signal: 'HUP' });
    const exit = await s.ended;
    assert.equal(exit.error?.code, 'ACCESS_DENIED');
    assert.deepEqual(exit.error?.details, { lock: { message: 'laptop stolen', target: 'User:"alice"' } });

    const reader = new FakeShell();
    const read = session(async () => reader.opened());
    read.s.start();
    await tick();
    reader.stdout.write('lock targeting User:"alice" is in force: from a log file\r\n');
    await tick();
    reader.finish({ code: 0 });
    assert.equal((await read.s.ended).error, undefined, 'a shell that printed a lock line and exited was not cut');

    const refused = session(async () => {
      throw new GatehouseError(
        'ACCESS_DENIED',
        'ssh: rejected: administratively prohibited (lock targeting Device:"d-1" is in force: lost)',
      );
    });
    refused.s.start();
    const r = await refused.s.ended;
    assert.deepEqual(r.error?.details?.['lock'], { message: 'lost', target: 'Device:"d-1"' });
  });
});
