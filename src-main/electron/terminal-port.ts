// Terminal bytes over a MessagePort, both ends. Main creates a MessageChannelMain per attach,
// keeps one port wired to the dispatcher and hands the other to the preload, which keeps it (the
// renderer only gets write/onData/close functions). Pure: the ends are typed by the few members
// used, so the tests drive them with node:worker_threads MessageChannels.
import type { TerminalStream } from '../ipc/contract.ts';
import { acceptTerminalInput } from './bridge-protocol.ts';

/** The renderer-side DOM MessagePort, reduced. */
export interface RendererPort {
  postMessage(data: string): void;
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
  const queued: string[] = [];
  const listeners = new Set<(data: string) => void>();

  const stream: TerminalStream = {
    write(data: string) {
      if (closed || typeof data !== 'string' || data === '') return;
      if (port) port.postMessage(data);
      else queued.push(data);
    },
    onData(listener: (data: string) => void) {
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
        if (closed || typeof event.data !== 'string') return;
        for (const l of [...listeners]) l(event.data);
      });
      p.start();
      for (const data of queued.splice(0)) p.postMessage(data);
    },
    fail() {
      stream.close();
    },
  };
}

/** Main-side port (Electron's MessagePortMain), reduced. */
export interface MainPort {
  postMessage(data: string): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  start(): void;
  close(): void;
}

export interface TerminalAttachment {
  write(data: string): void;
  detach(): void;
}

/**
 * Wires a port to the dispatcher's terminal: output → port, port input → terminal. When the
 * renderer closes its end (tab closed, window gone) the attachment is detached; the returned
 * function does the same from main's side (e.g. on quit).
 */
export function bridgeTerminalPort(
  port: MainPort,
  attach: (onData: (data: string) => void) => TerminalAttachment,
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
    const data = acceptTerminalInput(event.data);
    if (!done && data !== undefined) attachment.write(data);
  });
  port.on('close', end);
  port.start();
  return end;
}
