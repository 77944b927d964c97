// Builds the `window.gatehouse` object (GatehouseApi) from three transport functions. The
// namespaces come from the contract's channel list (main hands it to the preload, see
// bridge-protocol.ts), so a channel added to the contract appears without touching the preload,
// and nothing else (no ipcRenderer, no generic "send") exists.
// Pure, and type-only imports from the contract: the sandboxed preload bundle stays free of zod.
import type {
  ChannelNamespaces,
  EventChannel,
  EventPayloads,
  GatehouseApi,
  IpcResult,
  RequestChannel,
  TerminalStream,
} from '../ipc/contract.ts';

/** Every event channel of the contract; the type check below fails when one is missing. */
export const EVENT_CHANNELS = [
  'auth.expired',
  'terminals.exit',
  'gateways.status',
  'gateways.closed',
  'device.enrollProgress',
  'device.changed',
  'clusters.changed',
] as const satisfies readonly EventChannel[];
type MissingEvents = Exclude<EventChannel, (typeof EVENT_CHANNELS)[number]>;
const everyEventListed: [MissingEvents] extends [never] ? true : MissingEvents = true;
void everyEventListed;

export interface ApiTransport {
  invoke(channel: RequestChannel, input: unknown): Promise<IpcResult<unknown>>;
  /** Registers the one underlying event listener; called once. */
  subscribeEvents(listener: (event: string, payload: unknown) => void): void;
  attachTerminal(terminalId: string): TerminalStream;
}

type Listener = (payload: unknown) => void;

export function buildGatehouseApi(transport: ApiTransport, channels: readonly RequestChannel[]): GatehouseApi {
  // Null-prototype records: a channel can never shadow or reach Object.prototype members.
  const namespaces: Record<string, Record<string, (input: unknown) => Promise<IpcResult<unknown>>>> = Object.create(
    null,
  );
  for (const channel of channels) {
    const dot = channel.indexOf('.');
    const ns = channel.slice(0, dot);
    const method = channel.slice(dot + 1);
    namespaces[ns] ??= Object.create(null);
    namespaces[ns][method] = (input: unknown) => transport.invoke(channel, input ?? {});
  }

  const listeners = new Map<string, Set<Listener>>();
  const known = new Set<string>(EVENT_CHANNELS);
  transport.subscribeEvents((event, payload) => {
    if (!known.has(event)) return;
    for (const listener of [...(listeners.get(event) ?? [])]) {
      try {
        listener(payload);
      } catch (err) {
        // One failing listener must not keep the event from the others.
        console.error(`gatehouse: listener for ${event} threw`, err);
      }
    }
  });

  const events: GatehouseApi['events'] = {
    on<E extends EventChannel>(event: E, listener: (payload: EventPayloads[E]) => void): () => void {
      if (!known.has(event)) throw new TypeError(`unknown event "${String(event)}"`);
      if (typeof listener !== 'function') throw new TypeError('listener must be a function');
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const l = listener as Listener;
      set.add(l);
      return () => {
        set.delete(l);
      };
    },
  };

  const terminalStream: GatehouseApi['terminalStream'] = {
    attach(terminalId: string): TerminalStream {
      if (typeof terminalId !== 'string') throw new TypeError('terminalId must be a string');
      return transport.attachTerminal(terminalId);
    },
  };

  return { ...(namespaces as unknown as ChannelNamespaces), events, terminalStream };
}
