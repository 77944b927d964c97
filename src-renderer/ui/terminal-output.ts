// Feeds a terminal's output into xterm with flow control. Two rules:
// - Idle (nothing queued, xterm has parsed everything): a chunk is written at once, so an echo
//   is parsed now and drawn in xterm's next frame; deferring it to our own animation frame would
//   cost a whole extra frame per keystroke (xterm schedules its render in the frame after).
// - Busy: chunks are queued and written as ONE write per animation frame, and the bytes written
//   but not yet parsed (xterm's write callback) are counted. Above the high watermark the stream
//   is paused (main stops reading the SSH channel, so the server waits); below the low watermark
//   it resumes. Input never waits on any of this, so Ctrl+C gets through a flood.
// - Parsed bytes are reported back (flow.parsed, in batches of PARSED_REPORT_BYTES): main keeps
//   at most a bounded amount delivered and unparsed, which also bounds what sits in socket buffers
//   and queued messages where this pump cannot see it (terminal-session.ts describes the chain).
// No DOM or xterm import: the parts are passed in, so the watermark logic runs under node:test.

export interface OutputSink {
  /** xterm's term.write(data, callback): the callback runs once xterm has parsed the data. */
  write(data: Uint8Array, parsed: () => void): void;
}

export interface OutputFlow {
  pause(): void;
  resume(): void;
  /** xterm parsed `bytes` more of the output. */
  parsed(bytes: number): void;
}

export interface FrameScheduler {
  request(callback: () => void): number;
  cancel(handle: number): void;
}

export interface OutputPumpOptions {
  /** Unparsed bytes (queued + written) above which the stream is paused. */
  highWatermark?: number;
  /** Unparsed bytes below which a paused stream resumes. */
  lowWatermark?: number;
}

/** xterm's docs suggest pausing in the hundreds of KB; a frame of xterm parsing is ~1 MB at most. */
export const DEFAULT_HIGH_WATERMARK = 512 * 1024;
export const DEFAULT_LOW_WATERMARK = 128 * 1024;
/** Parsed bytes are reported in batches of this size: one small message per 64 KiB of output. */
export const PARSED_REPORT_BYTES = 64 * 1024;

export interface OutputPump {
  push(chunk: Uint8Array): void;
  /** Bytes received but not yet parsed by xterm (queued + in xterm's write buffer). */
  readonly unparsed: number;
  readonly paused: boolean;
  /** Stops writing; a pause this pump holds is released. */
  dispose(): void;
}

export function createOutputPump(
  sink: OutputSink,
  flow: OutputFlow,
  frames: FrameScheduler,
  options: OutputPumpOptions = {},
): OutputPump {
  const high = options.highWatermark ?? DEFAULT_HIGH_WATERMARK;
  const low = options.lowWatermark ?? DEFAULT_LOW_WATERMARK;
  if (!(low >= 0 && high > low)) throw new RangeError(`watermarks need 0 <= low < high, got ${low} and ${high}`);
  let queue: Uint8Array[] = [];
  let queued = 0;
  let inXterm = 0;
  let frame: number | undefined;
  let paused = false;
  let disposed = false;
  let unreported = 0;

  const writeNow = (data: Uint8Array) => {
    inXterm += data.byteLength;
    sink.write(data, () => {
      inXterm -= data.byteLength;
      if (disposed) return;
      unreported += data.byteLength;
      if (unreported >= PARSED_REPORT_BYTES) {
        flow.parsed(unreported);
        unreported = 0;
      }
      if (paused && !disposed && queued + inXterm < low) {
        paused = false;
        flow.resume();
      }
    });
  };

  const flush = () => {
    frame = undefined;
    if (disposed || queued === 0) return;
    const chunks = queue;
    const total = queued;
    queue = [];
    queued = 0;
    writeNow(chunks.length === 1 ? chunks[0]! : concat(chunks, total));
  };

  return {
    push(chunk) {
      if (disposed || chunk.byteLength === 0) return;
      if (queued === 0 && inXterm === 0 && frame === undefined) {
        writeNow(chunk);
      } else {
        queue.push(chunk);
        queued += chunk.byteLength;
        frame ??= frames.request(flush);
      }
      if (!paused && queued + inXterm > high) {
        paused = true;
        flow.pause();
      }
    },
    get unparsed() {
      return queued + inXterm;
    },
    get paused() {
      return paused;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (frame !== undefined) frames.cancel(frame);
      queue = [];
      queued = 0;
      if (paused) {
        paused = false;
        flow.resume();
      }
    },
  };
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
