// Terminal bytes over a MessagePort, both ends. Main creates a MessageChannelMain per attach,
// keeps one port wired to the dispatcher and hands the other to the preload, which keeps it (the
// renderer only gets write/onData/pause/resume/close functions). Messages are Uint8Array both
// ways (no JSON, no strings: input's buffer is transferred, not copied) plus the flow-control
// words of bridge-protocol.ts. Pure: the ends are typed by the few members used, so the tests
// drive them with node:worker_threads MessageChannels.
import type { TerminalStream } from '../ipc/contract.ts';
import {
  MAX_TERMINAL_INPUT,
  TERMINAL_PARSED_PREFIX,
  TERMINAL_PAUSE,
  TERMINAL_RESUME,
  parseTerminalPortMessage,
} from './bridge-protocol.ts';

/** The renderer-side DOM MessagePort, reduced. */
export interface RendererPort {
  postMessage(data: Uint8Array | string, transfer: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  start(): void;
  close(): void;
}

/**
 * A TerminalStream usable at once, before main's port has arrived: writes are queued and flushed
 * on bind, so keys typed while attaching are not lost. `fail` ends a stream main refused.
 */
export function createPortTerminalStream(): {
  stream: TerminalStream;
  bind(port: RendererPort): void;
  fail(): void;
} {
  let port: RendererPort | undefined;
  let closed = false;
  const queued: (Uint8Array | string)[] = [];
  const listeners = new Set<(data: Uint8Array) => void>();
  const utf8 = new TextEncoder();
  const post = (message: Uint8Array | string) => {
    if (!port) queued.push(message);
    else if (typeof message === 'string') port.postMessage(message, []);
    // A fresh buffer per chunk (TextEncoder / subarray copies below), so it can be handed over.
    else port.postMessage(message, [message.buffer as ArrayBuffer]);
  };

  const stream: TerminalStream = {
    write(data: string) {
      if (closed || typeof data !== 'string' || data === '') return;
      const bytes = utf8.encode(data);
      for (let at = 0; at < bytes.byteLength; at += MAX_TERMINAL_INPUT) {
        post(bytes.byteLength <= MAX_TERMINAL_INPUT ? bytes : bytes.slice(at, at + MAX_TERMINAL_INPUT));
      }
    },
    pause() {
      if (!closed) post(TERMINAL_PAUSE);
    },
    resume() {
      if (!closed) post(TERMINAL_RESUME);
    },
    parsed(bytes: number) {
      if (!closed && Number.isSafeInteger(bytes) && bytes > 0) post(`${TERMINAL_PARSED_PREFIX}${bytes}`);
    },
    onData(listener: (data: Uint8Array) => void) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close() {
      if (closed) return;
      closed = true;
      queued.length = 0;
      listeners.clear();
      port?.close();
    },
  };

  return {
    stream,
    bind(p: RendererPort) {
      if (closed || port) {
        // Closed before main answered (or a duplicate reply): closing tells main to detach.
        p.close();
        return;
      }
      port = p;
      p.addEventListener('message', (event) => {
        if (closed || !(event.data instanceof Uint8Array)) return;
        for (const l of [...listeners]) l(event.data);
      });
      p.start();
      for (const message of queued.splice(0)) post(message);
    },
    fail() {
      stream.close();
    },
  };
}

/** Main-side port (Electron's MessagePortMain), reduced. */
export interface MainPort {
  postMessage(data: Uint8Array): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  start(): void;
  close(): void;
}

export interface TerminalAttachment {
  write(data: Uint8Array): void;
  pause(): void;
  resume(): void;
  parsed(bytes: number): void;
  detach(): void;
}

/**
 * Wires a port to the dispatcher's terminal: output → port, port input → terminal. When the
 * renderer closes its end (tab closed, window gone) the attachment is detached; the returned
 * function does the same from main's side (e.g. on quit).
 */
export function bridgeTerminalPort(
  port: MainPort,
  attach: (onData: (data: Uint8Array) => void) => TerminalAttachment,
): () => void {
  let done = false;
  const attachment = attach((data) => {
    if (!done) port.postMessage(data);
  });
  const end = () => {
    if (done) return;
    done = true;
    attachment.detach();
    port.close();
  };
  port.on('message', (event) => {
    const message = parseTerminalPortMessage(event.data);
    if (done || !message) return;
    if (message.kind === 'input') attachment.write(message.data);
    else if (message.kind === 'pause') attachment.pause();
    else if (message.kind === 'parsed') attachment.parsed(message.bytes);
    else attachment.resume();
  });
  port.on('close', end);
  port.start();
  return end;
}
