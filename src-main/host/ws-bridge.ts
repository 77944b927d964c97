// One browser tab's WebSocket: the renderer's bridge speaks JSON text frames for control (see the
// spec): invoke → result, events pushed as they happen, terminal attach/detach/pause/resume; the
// terminal bytes themselves are binary frames (src-shared/terminal-frame.ts) both ways. Every
// text frame is validated; one the protocol does not allow closes the socket with the reason (the
// bridge is our own code, so that is a bug or an attack, never a user typo). A malformed binary
// frame is dropped and logged: it names no terminal reliably, so nothing else is closed for it.
import { z } from 'zod';
import type { WebSocket, RawData } from 'ws';
import type { AppLogger } from '../app/logger.ts';
import type { IpcDispatcher, TerminalAttachment } from '../ipc/dispatcher.ts';
import {
  TerminalFrameError,
  TerminalFrameKind,
  decodeTerminalFrame,
  encodeTerminalFrame,
  splitForFrames,
} from '../../src-shared/terminal-frame.ts';
import { toIpcError } from '../ipc/ipc-errors.ts';

const terminalId = z.string().regex(/^t[0-9]{1,9}$/);

export const ClientFrameSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('invoke'),
      id: z.union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().min(1).max(64)]),
      channel: z.string().min(1).max(100),
      input: z.unknown().optional(),
    })
    .strict(),
  z.object({ type: z.literal('term-attach'), terminalId }).strict(),
  z.object({ type: z.literal('term-detach'), terminalId }).strict(),
  // Flow control: the tab has more output than xterm has parsed (pause) / caught up (resume).
  z.object({ type: z.literal('term-pause'), terminalId }).strict(),
  z.object({ type: z.literal('term-resume'), terminalId }).strict(),
  // xterm parsed this many more output bytes: main bounds what is delivered and unparsed.
  z
    .object({
      type: z.literal('term-parsed'),
      terminalId,
      bytes: z
        .number()
        .int()
        .min(1)
        .max(2 ** 31),
    })
    .strict(),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;

/** WebSocket close codes (RFC 6455 §7.4.1). */
export const CLOSE_INVALID_PAYLOAD = 1007;
export const CLOSE_POLICY_VIOLATION = 1008;

/** Output waiting in the socket beyond this is a tab that stopped reading; it is cut off. */
const MAX_BUFFERED_BYTES = 64 << 20;

export function bridgeConnection(ws: WebSocket, dispatcher: IpcDispatcher, log: AppLogger): void {
  const attachments = new Map<string, TerminalAttachment>();
  let closed = false;

  const writable = () => {
    if (closed || ws.readyState !== ws.OPEN) return false;
    if (ws.bufferedAmount <= MAX_BUFFERED_BYTES) return true;
    log.warn('browser tab stopped reading; closing its connection');
    ws.close(CLOSE_POLICY_VIOLATION, 'too much unread data');
    return false;
  };
  const send = (frame: unknown) => {
    if (writable()) ws.send(JSON.stringify(frame));
  };
  const sendOutput = (id: string, data: Uint8Array) => {
    for (const part of splitForFrames(data)) {
      if (!writable()) return;
      ws.send(encodeTerminalFrame(TerminalFrameKind.output, id, part), { binary: true });
    }
  };

  const offEvents = dispatcher.onEvent((event, payload) => send({ type: 'event', event, payload }));

  const refuse = (code: number, reason: string) => {
    log.warn('closing a browser connection after a bad frame', { reason });
    // Reasons must fit a control frame (123 bytes).
    ws.close(code, reason.slice(0, 120));
  };

  const attach = (id: string) => {
    attachments.get(id)?.detach();
    try {
      attachments.set(
        id,
        dispatcher.attachTerminal(id, (data) => sendOutput(id, data)),
      );
    } catch (e) {
      // The tab holds a terminal main no longer has (e.g. after a host restart): tell it it ended.
      send({
        type: 'event',
        event: 'terminals.exit',
        payload: { terminalId: id, exitCode: null, error: toIpcError(e, log) },
      });
    }
  };

  const handle = (frame: ClientFrame) => {
    switch (frame.type) {
      case 'invoke':
        void dispatcher
          .invoke(frame.channel, frame.input)
          .then((result) => send({ type: 'result', id: frame.id, result }));
        return;
      case 'term-attach':
        return attach(frame.terminalId);
      case 'term-pause':
        return attachments.get(frame.terminalId)?.pause();
      case 'term-resume':
        return attachments.get(frame.terminalId)?.resume();
      case 'term-parsed':
        return attachments.get(frame.terminalId)?.parsed(frame.bytes);
      case 'term-detach':
        attachments.get(frame.terminalId)?.detach();
        attachments.delete(frame.terminalId);
        return;
    }
  };

  const input = (data: RawData) => {
    let frame;
    try {
      frame = decodeTerminalFrame(rawToBytes(data), TerminalFrameKind.input);
    } catch (e) {
      if (!(e instanceof TerminalFrameError)) throw e;
      log.warn('dropped a bad terminal frame from a browser tab', { reason: e.message });
      return;
    }
    const a = attachments.get(frame.terminalId);
    if (a) a.write(frame.data);
    else log.debug('terminal input without an attached stream dropped', { terminal: frame.terminalId });
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (closed) return;
    if (isBinary) return input(data);
    let json: unknown;
    try {
      json = JSON.parse(rawToString(data));
    } catch {
      return refuse(CLOSE_INVALID_PAYLOAD, 'a frame is not JSON');
    }
    const parsed = ClientFrameSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.map(String).join('.') : 'frame';
      return refuse(CLOSE_POLICY_VIOLATION, `bad frame: ${where}: ${issue?.message ?? 'invalid'}`);
    }
    handle(parsed.data);
  });

  ws.on('error', (e) => log.debug('browser connection error', { error: e.message }));
  ws.on('close', () => {
    closed = true;
    offEvents();
    // The terminals keep running (a reloaded tab can attach again); only this stream goes.
    for (const a of attachments.values()) a.detach();
    attachments.clear();
  });
}

function rawToBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function rawToString(data: RawData): string {
  return rawToBytes(data).toString('utf8');
}
