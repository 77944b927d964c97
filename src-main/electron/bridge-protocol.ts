// The Electron-internal channel names between preload and main, and the checks main applies to
// what arrives on them. The renderer can send anything through the preload's functions, so main
// parses every message here before it touches the dispatcher.

/** ipcMain.handle: (channel: string, input: unknown) → IpcResult. */
export const INVOKE_CHANNEL = 'gatehouse:invoke';
/** main → preload: (event: string, payload: unknown). */
export const EVENT_CHANNEL = 'gatehouse:event';
/** preload → main: AttachRequest; main answers on TERMINAL_PORT_CHANNEL with a MessagePort. */
export const TERMINAL_ATTACH_CHANNEL = 'gatehouse:terminal-attach';
/** main → preload: AttachReply, with the terminal's MessagePort in event.ports[0] on success. */
export const TERMINAL_PORT_CHANNEL = 'gatehouse:terminal-port';

/**
 * How the preload learns the contract's request channels: main appends this argument to the
 * renderer's argv (webPreferences.additionalArguments), which a sandboxed preload can read. That
 * keeps zod and the schemas out of the preload bundle; main still validates every call.
 */
export const CHANNELS_ARG_PREFIX = '--gatehouse-channels=';

const CHANNEL_NAME = /^[a-z][A-Za-z0-9]*\.[a-z][A-Za-z0-9]*$/;

export function channelsArgument(channels: readonly string[]): string {
  for (const c of channels) if (!CHANNEL_NAME.test(c)) throw new Error(`channel name "${c}" is not namespace.method`);
  return CHANNELS_ARG_PREFIX + channels.join(',');
}

/** The channel list from argv; throws when main did not pass it (a preload without an API is a bug). */
export function channelsFromArgv<C extends string = string>(argv: readonly string[]): C[] {
  const arg = argv.find((a) => a.startsWith(CHANNELS_ARG_PREFIX));
  if (arg === undefined) throw new Error(`gatehouse preload: ${CHANNELS_ARG_PREFIX} missing from argv`);
  const channels = arg.slice(CHANNELS_ARG_PREFIX.length).split(',');
  const bad = channels.filter((c) => !CHANNEL_NAME.test(c));
  if (bad.length > 0) throw new Error(`gatehouse preload: bad channel names ${bad.join(', ')}`);
  return [...new Set(channels)] as C[];
}

/**
 * Largest chunk of terminal input main accepts in one port message, in UTF-8 bytes (the preload
 * splits a bigger paste). The port carries one terminal, so its messages need no header: input
 * and output are Uint8Array payloads (the same bytes as src-shared/terminal-frame.ts's payload),
 * and the only other messages are the flow-control words below.
 */
export const MAX_TERMINAL_INPUT = 64 * 1024;
/** renderer → main on a terminal port: stop / start reading the shell's output (flow control). */
export const TERMINAL_PAUSE = 'pause';
export const TERMINAL_RESUME = 'resume';
/** renderer → main: `parsed <bytes>`, xterm parsed that much more output (terminal-output.ts). */
export const TERMINAL_PARSED_PREFIX = 'parsed ';
const PARSED_MESSAGE = /^parsed ([1-9][0-9]{0,9})$/;

export interface AttachRequest {
  /** Chosen by the preload per attach, so re-attaching the same terminal gets its own port. */
  requestId: number;
  terminalId: string;
}

export interface AttachReply {
  requestId: number;
  /** Set when main could not attach (unknown terminal, ...); no port is sent then. */
  error?: { code: string; message: string };
}

const TERMINAL_ID = /^t[0-9]{1,15}$/;

/** The attach request, or undefined when it is malformed (then main ignores it). */
export function parseAttachRequest(msg: unknown): AttachRequest | undefined {
  if (typeof msg !== 'object' || msg === null) return undefined;
  const { requestId, terminalId } = msg as Record<string, unknown>;
  if (typeof requestId !== 'number' || !Number.isSafeInteger(requestId) || requestId < 0) return undefined;
  if (typeof terminalId !== 'string' || !TERMINAL_ID.test(terminalId)) return undefined;
  return { requestId, terminalId };
}

export type TerminalPortMessage =
  { kind: 'input'; data: Uint8Array } | { kind: 'pause' } | { kind: 'resume' } | { kind: 'parsed'; bytes: number };

/** A message from the renderer's end of a terminal port, or undefined when it is none (dropped). */
export function parseTerminalPortMessage(data: unknown): TerminalPortMessage | undefined {
  if (data === TERMINAL_PAUSE) return { kind: 'pause' };
  if (data === TERMINAL_RESUME) return { kind: 'resume' };
  if (typeof data === 'string') {
    const parsed = PARSED_MESSAGE.exec(data);
    return parsed ? { kind: 'parsed', bytes: Number(parsed[1]) } : undefined;
  }
  const input = acceptTerminalInput(data);
  return input ? { kind: 'input', data: input } : undefined;
}

/** Terminal input from the renderer: bytes of bounded size (a view, or a transferred buffer). */
export function acceptTerminalInput(data: unknown): Uint8Array | undefined {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  return bytes instanceof Uint8Array && bytes.byteLength > 0 && bytes.byteLength <= MAX_TERMINAL_INPUT
    ? bytes
    : undefined;
}
