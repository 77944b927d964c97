// The renderer's half of the browser host's wire protocol over one WebSocket: JSON text frames
// for calls, events and terminal control; binary frames (src-shared/terminal-frame.ts) for the
// terminal bytes both ways. Kept free of DOM and WebSocket so it runs under node:test.
// browser-bridge.ts owns the socket and feeds frames in; this module turns them into a GatehouseApi.
import type {
  EventChannel,
  EventPayloads,
  GatehouseApi,
  IpcError,
  IpcResult,
  RequestChannel,
  TerminalStream,
} from '../../src-main/ipc/contract.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import {
  TerminalFrameError,
  TerminalFrameKind,
  decodeTerminalFrame,
  encodeTerminalFrame,
  splitForFrames,
} from '../../src-shared/terminal-frame.ts';
import { buildNamespaces } from './channels.ts';

/** Text frames the renderer sends (terminal input goes as binary frames). */
export type OutgoingFrame =
  | { type: 'invoke'; id: number; channel: RequestChannel; input: unknown }
  | { type: 'term-attach'; terminalId: string }
  | { type: 'term-detach'; terminalId: string }
  | { type: 'term-pause'; terminalId: string }
  | { type: 'term-resume'; terminalId: string }
  | { type: 'term-parsed'; terminalId: string; bytes: number };

/** Text frames the host sends (terminal output comes as binary frames). */
export type IncomingFrame =
  { type: 'result'; id: number; result: IpcResult<unknown> } | { type: 'event'; event: EventChannel; payload: unknown };

export const LOST_CONNECTION_MESSAGE = 'Lost connection to the app';

export interface WireClient {
  api: GatehouseApi;
  /** Hand every frame from the socket to this. Malformed frames are ignored (and reported). */
  receive(frame: string | ArrayBuffer | Uint8Array): void;
  /** The socket closed: settle every pending call with an INTERNAL error and refuse new ones. */
  fail(reason?: string): void;
  /** Listener runs once when the connection is lost (immediately if it already is). */
  onLost(listener: (message: string) => void): () => void;
  readonly lost: boolean;
}

export interface WireClientOptions {
  send(frame: string | Uint8Array): void;
  /** Where protocol oddities go (unknown frames, late results); console.warn in the browser. */
  warn?(message: string): void;
}

export function lostConnectionError(reason?: string): IpcError {
  return {
    code: ErrorCode.INTERNAL,
    message: LOST_CONNECTION_MESSAGE,
    details: { disconnected: true, ...(reason ? { reason } : {}) },
  };
}

export function createWireClient(options: WireClientOptions): WireClient {
  const warn = options.warn ?? (() => {});
  let nextId = 1;
  let lostError: IpcError | undefined;
  const pending = new Map<number, (result: IpcResult<unknown>) => void>();
  const eventListeners = new Map<string, Set<(payload: unknown) => void>>();
  const terminalListeners = new Map<string, Set<(data: Uint8Array) => void>>();
  const utf8 = new TextEncoder();
  const lostListeners = new Set<(message: string) => void>();

  const send = (frame: OutgoingFrame | Uint8Array): boolean => {
    if (lostError) return false;
    try {
      options.send(frame instanceof Uint8Array ? frame : JSON.stringify(frame));
      return true;
    } catch (e) {
      // A socket that throws on send is as good as closed.
      client.fail((e as Error).message);
      return false;
    }
  };

  const invoke = (channel: RequestChannel, input: unknown): Promise<IpcResult<unknown>> => {
    if (lostError) return Promise.resolve({ ok: false, error: lostError });
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      if (!send({ type: 'invoke', id, channel, input })) {
        pending.delete(id);
        resolve({ ok: false, error: lostError ?? lostConnectionError() });
      }
    });
  };

  const attach = (terminalId: string): TerminalStream => {
    const listeners = new Set<(data: Uint8Array) => void>();
    terminalListeners.set(terminalId, listeners);
    send({ type: 'term-attach', terminalId });
    let closed = false;
    return {
      write(data) {
        if (closed || data === '') return;
        // A paste can be larger than one frame; keys are one small frame each, sent at once.
        for (const part of splitForFrames(utf8.encode(data))) {
          send(encodeTerminalFrame(TerminalFrameKind.input, terminalId, part));
        }
      },
      pause() {
        if (!closed) send({ type: 'term-pause', terminalId });
      },
      resume() {
        if (!closed) send({ type: 'term-resume', terminalId });
      },
      parsed(bytes) {
        if (!closed) send({ type: 'term-parsed', terminalId, bytes });
      },
      onData(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      close() {
        if (closed) return;
        closed = true;
        listeners.clear();
        if (terminalListeners.get(terminalId) === listeners) terminalListeners.delete(terminalId);
        send({ type: 'term-detach', terminalId });
      },
    };
  };

  const api: GatehouseApi = {
    ...buildNamespaces(invoke),
    events: {
      on<E extends EventChannel>(event: E, listener: (payload: EventPayloads[E]) => void) {
        let set = eventListeners.get(event);
        if (!set) eventListeners.set(event, (set = new Set()));
        const wrapped = listener as (payload: unknown) => void;
        set.add(wrapped);
        return () => {
          set.delete(wrapped);
        };
      },
    },
    terminalStream: { attach },
  };

  const receiveOutput = (bytes: Uint8Array) => {
    let frame;
    try {
      frame = decodeTerminalFrame(bytes, TerminalFrameKind.output);
    } catch (e) {
      if (!(e instanceof TerminalFrameError)) throw e;
      return warn(`ignored a bad terminal frame: ${e.message}`);
    }
    for (const listener of [...(terminalListeners.get(frame.terminalId) ?? [])]) listener(frame.data);
  };

  const client: WireClient = {
    api,
    get lost() {
      return lostError !== undefined;
    },
    receive(raw) {
      if (typeof raw !== 'string') return receiveOutput(raw instanceof Uint8Array ? raw : new Uint8Array(raw));
      const text = raw;
      let frame: IncomingFrame;
      try {
        frame = JSON.parse(text) as IncomingFrame;
      } catch {
        warn(`ignored a frame that is not JSON: ${text.slice(0, 80)}`);
        return;
      }
      switch (frame?.type) {
        case 'result': {
          const resolve = pending.get(frame.id);
          if (!resolve) return warn(`result for unknown call ${String(frame.id)}`);
          pending.delete(frame.id);
          resolve(frame.result);
          return;
        }
        case 'event':
          for (const listener of [...(eventListeners.get(frame.event) ?? [])]) listener(frame.payload);
          return;
        default:
          warn(`ignored a frame of unknown type ${JSON.stringify((frame as { type?: unknown })?.type)}`);
      }
    },
    fail(reason) {
      if (lostError) return;
      lostError = lostConnectionError(reason);
      const settle = [...pending.values()];
      pending.clear();
      for (const resolve of settle) resolve({ ok: false, error: lostError });
      for (const listener of [...lostListeners]) listener(LOST_CONNECTION_MESSAGE);
      lostListeners.clear();
    },
    onLost(listener) {
      if (lostError) {
        listener(LOST_CONNECTION_MESSAGE);
        return () => {};
      }
      lostListeners.add(listener);
      return () => lostListeners.delete(listener);
    },
  };
  return client;
}
