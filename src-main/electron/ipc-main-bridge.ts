// ipcMain side of the contract: every message is checked to come from the app's own top-level
// document before it reaches the transport-neutral dispatcher; events go to the app's windows;
// each terminal attach gets its own MessageChannelMain.
import {
  BrowserWindow,
  ipcMain,
  MessageChannelMain,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  type WebFrameMain,
} from 'electron';
import { isGatehouseError } from '../../src-shared/errors.ts';
import type { IpcResult } from '../ipc/contract.ts';
import {
  EVENT_CHANNEL,
  INVOKE_CHANNEL,
  TERMINAL_ATTACH_CHANNEL,
  TERMINAL_PORT_CHANNEL,
  parseAttachRequest,
  type AttachReply,
} from './bridge-protocol.ts';
import { isTrustedSender, type SenderFrame } from './security-policy.ts';
import { bridgeTerminalPort, type TerminalAttachment } from './terminal-port.ts';

/** The slice of createIpcDispatcher's result this bridge uses (see src-main/ipc/dispatcher.ts). */
export interface DispatcherLike {
  invoke(channel: string, rawInput: unknown): Promise<IpcResult<unknown>>;
  onEvent(listener: (event: string, payload: unknown) => void): () => void;
  attachTerminal(terminalId: string, onData: (data: Uint8Array) => void): TerminalAttachment;
}

function senderOf(frame: WebFrameMain | null): SenderFrame | null {
  // `frame` is null once the frame navigated away or was destroyed: treated as untrusted.
  if (!frame || frame.isDestroyed()) return null;
  return { url: frame.url, isMainFrame: frame.parent === null };
}

const untrusted: IpcResult<never> = {
  ok: false,
  error: { code: 'ACCESS_DENIED', message: 'This request did not come from the Gatehouse app page.' },
};

/** Registers the handlers; returns a function that removes them and ends open terminal ports. */
export function registerIpcBridge(dispatcher: DispatcherLike, appIndexUrl: string): () => void {
  const trusted = (event: IpcMainEvent | IpcMainInvokeEvent) =>
    isTrustedSender(senderOf(event.senderFrame), appIndexUrl);
  const openPorts = new Set<() => void>();

  ipcMain.handle(INVOKE_CHANNEL, async (event, channel: unknown, input: unknown): Promise<IpcResult<unknown>> => {
    if (!trusted(event)) {
      console.warn(`gatehouse: refused IPC from ${event.senderFrame?.url ?? 'a destroyed frame'}`);
      return untrusted;
    }
    if (typeof channel !== 'string') {
      return { ok: false, error: { code: 'BAD_REQUEST', message: 'channel must be a string' } };
    }
    return dispatcher.invoke(channel, input);
  });

  const onAttach = (event: IpcMainEvent, msg: unknown) => {
    const frame = event.senderFrame;
    if (!trusted(event) || !frame) return;
    const request = parseAttachRequest(msg);
    if (!request) return;
    const { port1, port2 } = new MessageChannelMain();
    let end: () => void;
    try {
      end = bridgeTerminalPort(port1, (onData) => dispatcher.attachTerminal(request.terminalId, onData));
    } catch (err) {
      if (!isGatehouseError(err)) console.error('gatehouse: terminal attach failed', err);
      port1.close();
      port2.close();
      const reply: AttachReply = {
        requestId: request.requestId,
        error: isGatehouseError(err)
          ? { code: err.code, message: err.message }
          : { code: 'INTERNAL', message: 'could not attach to the terminal' },
      };
      frame.send(TERMINAL_PORT_CHANNEL, reply);
      return;
    }
    openPorts.add(end);
    port1.on('close', () => openPorts.delete(end));
    const reply: AttachReply = { requestId: request.requestId };
    frame.postMessage(TERMINAL_PORT_CHANNEL, reply, [port2]);
  };
  ipcMain.on(TERMINAL_ATTACH_CHANNEL, onAttach);

  const stopEvents = dispatcher.onEvent((event, payload) => {
    for (const win of BrowserWindow.getAllWindows()) {
      const wc = win.webContents;
      // Only a window that currently shows the app gets events (never a page it was tricked to).
      if (!wc.isDestroyed() && isTrustedSender(senderOf(wc.mainFrame), appIndexUrl)) {
        wc.send(EVENT_CHANNEL, event, payload);
      }
    }
  });

  return () => {
    stopEvents();
    ipcMain.removeHandler(INVOKE_CHANNEL);
    ipcMain.off(TERMINAL_ATTACH_CHANNEL, onAttach);
    for (const end of [...openPorts]) end();
    openPorts.clear();
  };
}
