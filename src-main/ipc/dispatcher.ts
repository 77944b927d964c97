// The transport-neutral side of IPC in main: Electron's ipcMain handler and the browser host's
// WebSocket both hand every request to invoke(), forward onEvent() to the renderer and connect
// terminal streams with attachTerminal(). Here, and only here, the channel name and its input
// are validated against the contract and every failure becomes an IpcResult error with a
// stable code — nothing a renderer sends can reach a service unchecked or crash main.
import type { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import {
  requests,
  type EventChannel,
  type EventPayloads,
  type IpcResult,
  type RequestChannel,
  type RequestResults,
} from './contract.ts';
import { badRequest, toIpcError, type IpcErrorLog } from './ipc-errors.ts';

type ParsedInput<C extends RequestChannel> = z.output<(typeof requests)[C]['input']>;
type Reply<C extends RequestChannel> = Promise<RequestResults[C]> | RequestResults[C];
type Handlers = {
  [C in RequestChannel]: (input: ParsedInput<C>) => Reply<C>;
};

export type IpcEventListener = <E extends EventChannel>(event: E, payload: EventPayloads[E]) => void;

/** Output bytes as the shell wrote them (UTF-8 may be split across chunks; xterm joins them). */
export type TerminalOutputListener = (data: Uint8Array) => void;

/** A terminal's input side, handed to the transport that carries the renderer's keystrokes. */
export interface TerminalAttachment {
  /** Keys: xterm's string, or its UTF-8 bytes as they came off a binary frame. */
  write(data: string | Uint8Array): void;
  /**
   * Flow control: the renderer has more output than it has parsed. Output stops being read from
   * the shell's channel (SSH window, so the server waits) until resume(); input still flows.
   */
  pause(): void;
  resume(): void;
  /**
   * The renderer has parsed `bytes` more of the output it was sent. Output delivered and not yet
   * reported parsed is bounded (TerminalSession's OUTPUT_IN_FLIGHT_LIMIT): beyond it the channel
   * is paused, so Ctrl+C in a flood is not stuck behind megabytes in socket buffers.
   */
  parsed(bytes: number): void;
  /** Ends this attachment; a pause it held is released. */
  detach(): void;
}

/** What the dispatcher logs: failed calls at debug, unexpected errors at error. */
export interface IpcLog extends IpcErrorLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
}

export interface IpcDispatcher {
  invoke(channel: string, rawInput: unknown): Promise<IpcResult<unknown>>;
  onEvent(listener: IpcEventListener): () => void;
  /** Connects a terminal's byte stream; NOT_FOUND (a GatehouseError) for an unknown id. */
  attachTerminal(terminalId: string, onData: TerminalOutputListener): TerminalAttachment;
}

/**
 * The services the dispatcher calls, described by the contract alone so that ipc/ never imports
 * the app that implements them (src-main/app/compose.ts's AppServices satisfies it).
 */
export interface DispatcherServices {
  info(): RequestResults['app.info'];
  clusters: {
    list(): Reply<'clusters.list'>;
    probe(proxy: string): Reply<'clusters.probe'>;
    /** `confirmedFingerprint`: the CA fingerprint the user confirmed from clusters.probe. */
    add(proxy: string, trust?: { confirmedFingerprint?: string }): Reply<'clusters.add'>;
    remove(proxy: string): Reply<'clusters.remove'>;
    select(proxy: string): Reply<'clusters.select'>;
  };
  auth: {
    login(input: ParsedInput<'auth.login'>): Reply<'auth.login'>;
    logout(proxy: string): Reply<'auth.logout'>;
  };
  resources: {
    listServers(proxy: string): Reply<'resources.listServers'>;
    listDatabases(proxy: string): Reply<'resources.listDatabases'>;
    listApps(proxy: string): Reply<'resources.listApps'>;
  };
  gateways: {
    openDb(input: ParsedInput<'gateways.createDb'>): Reply<'gateways.createDb'>;
    openApp(input: ParsedInput<'gateways.createApp'>): Reply<'gateways.createApp'>;
    launchApp(gatewayId: string): Reply<'gateways.launchApp'>;
    summaries(): Reply<'gateways.list'>;
    setPort(gatewayId: string, port: number): Reply<'gateways.setPort'>;
    close(gatewayId: string): Reply<'gateways.close'>;
    runClient(gatewayId: string, cols: number, rows: number): Reply<'gateways.runClient'>;
  };
  terminals: {
    open(input: ParsedInput<'terminals.open'>): Reply<'terminals.open'>;
    resize(terminalId: string, cols: number, rows: number): Reply<'terminals.resize'>;
    close(terminalId: string): Reply<'terminals.close'>;
    attach(terminalId: string, onData: TerminalOutputListener): TerminalAttachment;
  };
  shell: { openExternal(url: string): Reply<'shell.openExternal'> };
  device: {
    status(input: ParsedInput<'device.status'>): Reply<'device.status'>;
    enroll(input: ParsedInput<'device.enroll'>): Reply<'device.enroll'>;
    diagnostics(input: ParsedInput<'device.diagnostics'>): Reply<'device.diagnostics'>;
    myDevices(proxy: string): Reply<'device.myDevices'>;
  };
  events: { on(listener: IpcEventListener): () => void };
  log: IpcLog;
}

function handlersFor(s: DispatcherServices): Handlers {
  return {
    'app.info': () => s.info(),
    'clusters.list': () => s.clusters.list(),
    'clusters.probe': (i) => s.clusters.probe(i.proxy),
    'clusters.add': (i) => s.clusters.add(i.proxy, i.caFingerprint ? { confirmedFingerprint: i.caFingerprint } : {}),
    'clusters.remove': (i) => s.clusters.remove(i.proxy),
    'clusters.select': (i) => s.clusters.select(i.proxy),
    'auth.login': (i) => s.auth.login(i),
    'auth.logout': (i) => s.auth.logout(i.proxy),
    'resources.listServers': (i) => s.resources.listServers(i.proxy),
    'resources.listDatabases': (i) => s.resources.listDatabases(i.proxy),
    'gateways.createDb': (i) => s.gateways.openDb(i),
    'resources.listApps': (i) => s.resources.listApps(i.proxy),
    'gateways.createApp': (i) => s.gateways.openApp(i),
    'gateways.launchApp': (i) => s.gateways.launchApp(i.gatewayId),
    'gateways.list': () => s.gateways.summaries(),
    'gateways.setPort': (i) => s.gateways.setPort(i.gatewayId, i.port),
    'gateways.close': (i) => s.gateways.close(i.gatewayId),
    'gateways.runClient': (i) => s.gateways.runClient(i.gatewayId, i.cols, i.rows),
    'terminals.open': (i) => s.terminals.open(i),
    'terminals.resize': (i) => s.terminals.resize(i.terminalId, i.cols, i.rows),
    'terminals.close': (i) => s.terminals.close(i.terminalId),
    'shell.openExternal': (i) => s.shell.openExternal(i.url),
    'device.status': (i) => s.device.status(i),
    'device.enroll': (i) => s.device.enroll(i),
    'device.diagnostics': (i) => s.device.diagnostics(i),
    'device.myDevices': (i) => s.device.myDevices(i.proxy),
  };
}

function isChannel(channel: unknown): channel is RequestChannel {
  return typeof channel === 'string' && Object.hasOwn(requests, channel);
}

/** "proxy: expected HOST or HOST:PORT; cols: Too small…" — field paths first, so the UI/log says which. */
function describeIssues(issues: z.core.$ZodIssue[]): {
  text: string;
  fields: Array<{ path: string; message: string }>;
} {
  const fields = issues.slice(0, 10).map((i) => ({
    path: i.path.length ? i.path.map(String).join('.') : '(input)',
    message: i.message,
  }));
  // Unknown keys come as one issue at the root naming them.
  for (const i of issues) {
    if (i.code === 'unrecognized_keys') {
      const f = fields.find((x) => x.message === i.message);
      if (f) f.path = i.keys.join(', ');
    }
  }
  return { text: fields.map((f) => `${f.path}: ${f.message}`).join('; '), fields };
}

export function createIpcDispatcher(services: DispatcherServices, opts: { logger?: IpcLog } = {}): IpcDispatcher {
  const log = opts.logger ?? services.log;
  const handlers = handlersFor(services);

  return {
    async invoke(channel, rawInput) {
      try {
        if (!isChannel(channel)) {
          const name = typeof channel === 'string' ? `"${channel.slice(0, 100)}"` : typeof channel;
          throw badRequest(`unknown channel ${name}`, { channel: String(channel).slice(0, 100) });
        }
        const parsed = requests[channel].input.safeParse(rawInput ?? {});
        if (!parsed.success) {
          const { text, fields } = describeIssues(parsed.error.issues);
          throw badRequest(`invalid input for ${channel}: ${text}`, { channel, fields });
        }
        const handler = handlers[channel] as (input: unknown) => Promise<unknown> | unknown;
        const value = await handler(parsed.data);
        return { ok: true, value: value ?? null };
      } catch (e) {
        const error = toIpcError(e, log, { channel: typeof channel === 'string' ? channel.slice(0, 100) : '?' });
        if (error.code !== ErrorCode.INTERNAL) log.debug('ipc call failed', { channel, code: error.code });
        return { ok: false, error };
      }
    },

    onEvent(listener) {
      return services.events.on(listener);
    },

    attachTerminal(terminalId, onData) {
      if (typeof terminalId !== 'string' || !/^t[0-9]+$/.test(terminalId)) {
        throw new GatehouseError(ErrorCode.BAD_REQUEST, 'a terminal id looks like "t1"');
      }
      return services.terminals.attach(terminalId, onData);
    },
  };
}
