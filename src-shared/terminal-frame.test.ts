import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_TERMINAL_FRAME_PAYLOAD,
  TERMINAL_FRAME_HEADER_BYTES,
  TerminalFrameError,
  TerminalFrameKind,
  decodeTerminalFrame,
  encodeTerminalFrame,
  splitForFrames,
} from './terminal-frame.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

test('a frame round-trips kind, terminal id and bytes, including non-UTF-8 bytes', () => {
  const payload = new Uint8Array([0x68, 0x69, 0xff, 0x00, 0xe2, 0x82]);
  const frame = encodeTerminalFrame(TerminalFrameKind.output, 't123456789', payload);
  assert.equal(frame.byteLength, TERMINAL_FRAME_HEADER_BYTES + payload.byteLength);
  assert.deepEqual([...frame.subarray(0, 5)], [1, 0x07, 0x5b, 0xcd, 0x15]);
  const decoded = decodeTerminalFrame(frame, TerminalFrameKind.output);
  assert.equal(decoded.terminalId, 't123456789');
  assert.equal(decoded.kind, TerminalFrameKind.output);
  assert.deepEqual([...decoded.data], [...payload]);
});

test('decoding reads a frame inside a larger buffer (a Node Buffer from the pool)', () => {
  const inner = encodeTerminalFrame(TerminalFrameKind.input, 't7', bytes('ls\r'));
  const pooled = new Uint8Array(64);
  pooled.set(inner, 11);
  const decoded = decodeTerminalFrame(pooled.subarray(11, 11 + inner.byteLength), TerminalFrameKind.input);
  assert.equal(decoded.terminalId, 't7');
  assert.equal(new TextDecoder().decode(decoded.data), 'ls\r');
});

test('an empty payload is a valid frame', () => {
  const decoded = decodeTerminalFrame(encodeTerminalFrame(TerminalFrameKind.input, 't1', new Uint8Array()), 2);
  assert.equal(decoded.data.byteLength, 0);
});

test('malformed frames get a clear TerminalFrameError', () => {
  const cases: [Uint8Array, TerminalFrameKind, RegExp][] = [
    [new Uint8Array([1, 0, 0]), TerminalFrameKind.output, /shorter than its header/],
    [encodeTerminalFrame(TerminalFrameKind.input, 't1', bytes('x')), TerminalFrameKind.output, /kind 2 where 1/],
    [new Uint8Array([9, 0, 0, 0, 1]), TerminalFrameKind.input, /kind 9 where 2/],
    [
      new Uint8Array([2, 0xff, 0xff, 0xff, 0xff]),
      TerminalFrameKind.input,
      /terminal number 4294967295 is out of range/,
    ],
    [new Uint8Array(TERMINAL_FRAME_HEADER_BYTES + MAX_TERMINAL_FRAME_PAYLOAD + 1), 0 as never, /payload is over/],
  ];
  for (const [frame, kind, message] of cases) {
    assert.throws(
      () => decodeTerminalFrame(frame, kind),
      (e: unknown) => e instanceof TerminalFrameError && message.test(e.message),
    );
  }
});

test('encoding refuses bad terminal ids and oversize payloads', () => {
  for (const id of ['1', 't', 't1234567890', 'tx', ' t1']) {
    assert.throws(() => encodeTerminalFrame(TerminalFrameKind.input, id, bytes('a')), /a terminal id looks like "t1"/);
  }
  assert.throws(
    () => encodeTerminalFrame(TerminalFrameKind.output, 't1', new Uint8Array(MAX_TERMINAL_FRAME_PAYLOAD + 1)),
    TerminalFrameError,
  );
});

test('splitForFrames cuts big output into frame-sized views and leaves small output whole', () => {
  const small = bytes('abc');
  assert.deepEqual(splitForFrames(small), [small]);
  const big = new Uint8Array(2 * MAX_TERMINAL_FRAME_PAYLOAD + 3).map((_, i) => i & 0xff);
  const parts = splitForFrames(big);
  assert.deepEqual(
    parts.map((p) => p.byteLength),
    [MAX_TERMINAL_FRAME_PAYLOAD, MAX_TERMINAL_FRAME_PAYLOAD, 3],
  );
  assert.equal(parts[2]![0], big[2 * MAX_TERMINAL_FRAME_PAYLOAD]);
});
