import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PARSED_REPORT_BYTES, createOutputPump, type FrameScheduler, type OutputSink } from './terminal-output.ts';

/** xterm stand-in: records writes and parses them only when the test says so. */
function fakeXterm() {
  const writes: { text: string; parsed: () => void }[] = [];
  const sink: OutputSink = { write: (data, parsed) => writes.push({ text: new TextDecoder().decode(data), parsed }) };
  return { sink, writes, parseAll: () => writes.splice(0).forEach((w) => w.parsed()) };
}

function fakeFrames() {
  let next = 1;
  const pending = new Map<number, () => void>();
  const frames: FrameScheduler = {
    request: (cb) => (pending.set(next, cb), next++),
    cancel: (h) => void pending.delete(h),
  };
  const run = () => {
    const due = [...pending.values()];
    pending.clear();
    due.forEach((cb) => cb());
  };
  return {
    frames,
    run,
    get waiting() {
      return pending.size;
    },
  };
}

function fakeFlow() {
  const calls: string[] = [];
  return {
    calls,
    flow: {
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
      parsed: (n: number) => calls.push(`parsed ${n}`),
    },
  };
}

const bytes = (n: number, ch = 'x') => new TextEncoder().encode(ch.repeat(n));

test('an echo on an idle terminal is written at once, without waiting for a frame', () => {
  const x = fakeXterm();
  const f = fakeFrames();
  const pump = createOutputPump(x.sink, fakeFlow().flow, f.frames);
  pump.push(bytes(1, 'a'));
  assert.deepEqual(
    x.writes.map((w) => w.text),
    ['a'],
  );
  assert.equal(f.waiting, 0);
});

test('while xterm is busy, chunks are coalesced into one write per animation frame', () => {
  const x = fakeXterm();
  const f = fakeFrames();
  const pump = createOutputPump(x.sink, fakeFlow().flow, f.frames);
  pump.push(bytes(1, 'a'));
  pump.push(bytes(2, 'b'));
  pump.push(bytes(3, 'c'));
  assert.deepEqual(
    x.writes.map((w) => w.text),
    ['a'],
    'b and c wait for the frame',
  );
  assert.equal(f.waiting, 1, 'one frame requested for both');
  f.run();
  assert.deepEqual(
    x.writes.map((w) => w.text),
    ['a', 'bbccc'],
  );
  assert.equal(pump.unparsed, 6);
  x.parseAll();
  assert.equal(pump.unparsed, 0);
  pump.push(bytes(1, 'd'));
  assert.equal(x.writes.at(-1)!.text, 'd', 'idle again: written at once');
});

test('above the high watermark the stream pauses once; below the low one it resumes once', () => {
  const x = fakeXterm();
  const f = fakeFrames();
  const { flow, calls } = fakeFlow();
  const pump = createOutputPump(x.sink, flow, f.frames, { highWatermark: 100, lowWatermark: 20 });
  pump.push(bytes(60));
  pump.push(bytes(30));
  assert.deepEqual(calls, []);
  pump.push(bytes(30)); // 120 unparsed
  pump.push(bytes(30));
  assert.deepEqual(calls, ['pause']);
  assert.ok(pump.paused);
  f.run(); // the 90 queued bytes become one write; still unparsed
  x.writes[0]!.parsed(); // 60 parsed → 90 unparsed, above low
  assert.deepEqual(calls, ['pause']);
  x.writes[1]!.parsed(); // all parsed
  assert.deepEqual(calls, ['pause', 'resume']);
  assert.ok(!pump.paused);
});

test('dispose drops queued output, cancels the frame and releases a pause it holds', () => {
  const x = fakeXterm();
  const f = fakeFrames();
  const { flow, calls } = fakeFlow();
  const pump = createOutputPump(x.sink, flow, f.frames, { highWatermark: 10, lowWatermark: 5 });
  pump.push(bytes(8));
  pump.push(bytes(8));
  pump.dispose();
  assert.deepEqual(calls, ['pause', 'resume']);
  assert.equal(f.waiting, 0);
  x.parseAll();
  pump.push(bytes(1));
  assert.equal(x.writes.length, 0, 'nothing is written after dispose');
  assert.deepEqual(calls, ['pause', 'resume'], 'a late parse callback does not resume again');
});

test('parsed output is reported in batches of PARSED_REPORT_BYTES; nothing after dispose', () => {
  const x = fakeXterm();
  const f = fakeFrames();
  const { flow, calls } = fakeFlow();
  const pump = createOutputPump(x.sink, flow, f.frames, { highWatermark: 1 << 30, lowWatermark: 0 });
  pump.push(bytes(PARSED_REPORT_BYTES - 1));
  x.parseAll();
  assert.deepEqual(calls, [], 'less than a batch parsed: not reported yet');
  pump.push(bytes(2));
  x.parseAll();
  assert.deepEqual(calls, [`parsed ${PARSED_REPORT_BYTES + 1}`]);
  pump.push(bytes(PARSED_REPORT_BYTES));
  pump.dispose();
  x.parseAll();
  assert.deepEqual(calls, [`parsed ${PARSED_REPORT_BYTES + 1}`], 'a disposed pump reports nothing');
});

test('watermarks must leave room between them', () => {
  const x = fakeXterm();
  const f = fakeFrames();
  assert.throws(
    () => createOutputPump(x.sink, fakeFlow().flow, f.frames, { highWatermark: 10, lowWatermark: 10 }),
    /0 <= low < high/,
  );
});
