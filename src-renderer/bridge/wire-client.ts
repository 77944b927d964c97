// The renderer's half of the browser host's wire protocol (JSON text frames over one WebSocket),
// kept free of DOM and WebSocket so it runs under node:test. browser-bridge.ts owns the socket
// and feeds frames in; this module turns them into a GatehouseApi.
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
import { buildNamespaces } from './channels.ts';

/** Frames the renderer sends. */
export type OutgoingFrame =
  | { type: 'invoke'; id: number; channel: RequestChannel; input: unknown }
  | { type: 'term-attach'; terminalId: string }
  | { type: 'term-input'; terminalId: string; data: string }
  | { type: 'term-detach'; terminalId: string };

/** Frames the host sends. */
export type IncomingFrame =
  | { type: 'result'; id: number; result: IpcResult<unknown> }
  | { type: 'event'; event: EventChannel; payload: unknown }
  | { type: 'term-data'; terminalId: string; data: string };

export const LOST_CONNECTION_MESSAGE = 'Lost connection to the app';

export interface WireClient {
  api: GatehouseApi;
  /** Hand every text frame from the socket to this. Malformed frames are ignored (and reported). */
  receive(frame: string): void;
  /** The socket closed: settle every pending call with an INTERNAL error and refuse new ones. */
  fail(reason?: string): void;
  /** Listener runs once when the connection is lost (immediately if it already is). */
  onLost(listener: (message: string) => void): () => void;
  readonly lost: boolean;
}

export interface WireClientOptions {
  send(frame: string): void;
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
  const terminalListeners = new Map<string, Set<(data: string) => void>>();
  const lostListeners = new Set<(message: string) => void>();

  const send = (frame: OutgoingFrame): boolean => {
    if (lostError) return false;
    try {
      options.send(JSON.stringify(frame));
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
    const listeners = new Set<(data: string) => void>();
    terminalListeners.set(terminalId, listeners);
    send({ type: 'term-attach', terminalId });
    let closed = false;
    return {
      write(data) {
        if (!closed) send({ type: 'term-input', terminalId, data });
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

  const client: WireClient = {
    api,
    get lost() {
      return lostError !== undefined;
    },
    receive(text) {
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
        case 'term-data':
          for (const listener of [...(terminalListeners.get(frame.terminalId) ?? [])]) listener(frame.data);
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
