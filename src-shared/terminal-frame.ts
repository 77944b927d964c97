// THE binary frame format of terminal bytes between the renderer and main over the browser host's
// WebSocket (the Electron MessagePort is one port per terminal, so its messages are the payload
// alone). Terminal output is the bulk of the traffic: JSON-escaping and parsing it cost the
// renderer more CPU than xterm's own parsing (BENCHMARKS.md, Terminal throughput), so bytes
// travel as they are, behind a fixed 5-byte header:
//
//   offset 0  u8     kind        1 = output (main → renderer), 2 = input (renderer → main)
//   offset 1  u32 BE terminal    the number of the terminal id "t<n>"
//   offset 5  ...    payload     raw bytes (output: what the shell wrote; input: UTF-8 of keys)
//
// Control messages (attach, detach, pause, resume) stay JSON text frames. No imports: the
// renderer bundles this file.

export const TerminalFrameKind = { output: 1, input: 2 } as const;
export type TerminalFrameKind = (typeof TerminalFrameKind)[keyof typeof TerminalFrameKind];

export const TERMINAL_FRAME_HEADER_BYTES = 5;
/** Largest payload of one frame; bigger output is split (splitForFrames), bigger input refused. */
export const MAX_TERMINAL_FRAME_PAYLOAD = 1 << 20;
/** Terminal ids are "t" and 1 to 9 digits, so the number fits the u32 header field. */
const TERMINAL_ID = /^t([0-9]{1,9})$/;

export interface TerminalFrame {
  kind: TerminalFrameKind;
  terminalId: string;
  data: Uint8Array;
}

/** A frame that is not what the format allows; `reason` is short enough for a close frame. */
export class TerminalFrameError extends Error {
  override readonly name = 'TerminalFrameError';
}

export function terminalNumber(terminalId: string): number {
  const m = TERMINAL_ID.exec(terminalId);
  if (!m) throw new TerminalFrameError(`a terminal id looks like "t1", not ${JSON.stringify(terminalId.slice(0, 20))}`);
  return Number(m[1]);
}

export function encodeTerminalFrame(kind: TerminalFrameKind, terminalId: string, data: Uint8Array): Uint8Array {
  if (data.byteLength > MAX_TERMINAL_FRAME_PAYLOAD) {
    throw new TerminalFrameError(
      `terminal frame payload of ${data.byteLength} bytes is over ${MAX_TERMINAL_FRAME_PAYLOAD}`,
    );
  }
  const frame = new Uint8Array(TERMINAL_FRAME_HEADER_BYTES + data.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint8(0, kind);
  view.setUint32(1, terminalNumber(terminalId));
  frame.set(data, TERMINAL_FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Reads one frame; `expected` is the only kind this side may receive (a renderer never gets
 * input frames). The payload is a view into `bytes`, not a copy. Throws TerminalFrameError.
 */
export function decodeTerminalFrame(bytes: Uint8Array, expected: TerminalFrameKind): TerminalFrame {
  if (bytes.byteLength < TERMINAL_FRAME_HEADER_BYTES) {
    throw new TerminalFrameError(`terminal frame of ${bytes.byteLength} bytes is shorter than its header`);
  }
  if (bytes.byteLength - TERMINAL_FRAME_HEADER_BYTES > MAX_TERMINAL_FRAME_PAYLOAD) {
    throw new TerminalFrameError(`terminal frame payload is over ${MAX_TERMINAL_FRAME_PAYLOAD} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = view.getUint8(0);
  if (kind !== expected) throw new TerminalFrameError(`terminal frame kind ${kind} where ${expected} was expected`);
  const n = view.getUint32(1);
  if (n > 999_999_999) throw new TerminalFrameError(`terminal number ${n} is out of range`);
  return { kind, terminalId: `t${n}`, data: bytes.subarray(TERMINAL_FRAME_HEADER_BYTES) };
}

/** Cuts a payload into pieces a frame can carry (views, no copies). */
export function splitForFrames(data: Uint8Array): Uint8Array[] {
  if (data.byteLength <= MAX_TERMINAL_FRAME_PAYLOAD) return [data];
  const parts: Uint8Array[] = [];
  for (let at = 0; at < data.byteLength; at += MAX_TERMINAL_FRAME_PAYLOAD) {
    parts.push(data.subarray(at, at + MAX_TERMINAL_FRAME_PAYLOAD));
  }
  return parts;
}
