// A GatehouseApi for unit tests of the stores and the bridge's users: per-channel handlers,
// a record of every call, events the test emits, and terminal streams it can inspect.
import type {
  ClusterProbe,
  EventChannel,
  EventPayloads,
  GatehouseApi,
  IpcResult,
  RequestChannel,
  RequestInput,
  RequestResults,
  TerminalStream,
} from '../../src-main/ipc/contract.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import { buildNamespaces } from '../bridge/channels.ts';

export type Handlers = {
  [C in RequestChannel]?: (
    input: RequestInput<C>,
  ) => IpcResult<RequestResults[C]> | Promise<IpcResult<RequestResults[C]>>;
};

export interface FakeApi {
  api: GatehouseApi;
  calls: Array<{ channel: RequestChannel; input: unknown }>;
  callsTo(channel: RequestChannel): unknown[];
  emit<E extends EventChannel>(event: E, payload: EventPayloads[E]): void;
  /** Data written by the renderer into each attached terminal. */
  written: Map<string, string[]>;
  /** Pushes output (as its UTF-8 bytes, the way it arrives) into an attached terminal. */
  output(terminalId: string, data: string): void;
  /** pause/resume calls each attached terminal's stream received (flow control). */
  flow: Map<string, Array<'pause' | 'resume' | `parsed ${number}`>>;
  handlers: Handlers;
}

export const ok = <T>(value: T): IpcResult<T> => ({ ok: true, value });
export const fail = (code: ErrorCode, message = code.toLowerCase()): IpcResult<never> => ({
  ok: false,
  error: { code, message },
});

/** A refusal with details, e.g. `{ reason: 'expired' }` or `{ step: 'quote' }`. */
export const failWith = (code: ErrorCode, message: string, details: Record<string, unknown>): IpcResult<never> => ({
  ok: false,
  error: { code, message, details },
});

/** A SHA-256 fingerprint as clusters.probe shows it (32 upper-case hex pairs). */
export const FAKE_CA_FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).toUpperCase()).join(
  ':',
);

/** What clusters.probe answers for a proxy not in the list yet (the name is the host's). */
export const clusterProbe = (proxy: string, over: Partial<ClusterProbe> = {}): ClusterProbe => ({
  proxy: proxy.split(',')[0]!,
  proxies: proxy.split(','),
  clusterName: proxy.split(':')[0]!,
  caFingerprint: FAKE_CA_FINGERPRINT,
  known: false,
  ...over,
});

export function createFakeApi(handlers: Handlers = {}): FakeApi {
  const calls: FakeApi['calls'] = [];
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const streams = new Map<string, Set<(data: Uint8Array) => void>>();
  const written = new Map<string, string[]>();
  const flow = new Map<string, Array<'pause' | 'resume' | `parsed ${number}`>>();
  const fake: FakeApi = {
    calls,
    handlers,
    written,
    flow,
    callsTo: (channel) => calls.filter((c) => c.channel === channel).map((c) => c.input),
    emit(event, payload) {
      for (const l of [...(listeners.get(event) ?? [])]) l(payload);
    },
    output(terminalId, data) {
      for (const l of [...(streams.get(terminalId) ?? [])]) l(new TextEncoder().encode(data));
    },
    api: {
      ...buildNamespaces(async (channel, input) => {
        calls.push({ channel, input });
        const handler = handlers[channel] as ((input: unknown) => IpcResult<unknown>) | undefined;
        if (!handler) return fail(ErrorCode.INTERNAL, `no fake handler for ${channel}`);
        return handler(input);
      }),
      events: {
        on<E extends EventChannel>(event: E, listener: (payload: EventPayloads[E]) => void) {
          let set = listeners.get(event);
          if (!set) listeners.set(event, (set = new Set()));
          const l = listener as (payload: unknown) => void;
          set.add(l);
          return () => {
            set.delete(l);
          };
        },
      },
      terminalStream: {
        attach(terminalId): TerminalStream {
          const set = new Set<(data: Uint8Array) => void>();
          streams.set(terminalId, set);
          written.set(terminalId, []);
          flow.set(terminalId, []);
          return {
            write: (data) => written.get(terminalId)!.push(data),
            pause: () => flow.get(terminalId)!.push('pause'),
            resume: () => flow.get(terminalId)!.push('resume'),
            parsed: (bytes) => flow.get(terminalId)!.push(`parsed ${bytes}`),
            onData(listener) {
              set.add(listener);
              return () => set.delete(listener);
            },
            close: () => streams.delete(terminalId),
          };
        },
      },
    },
  };
  return fake;
}
