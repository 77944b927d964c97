// Preload (sandboxed, context-isolated): puts the narrow GatehouseApi on `window.gatehouse` and
// nothing else. ipcRenderer stays in here; the renderer gets one function per contract channel,
// events.on, and terminal streams whose MessagePort the preload keeps to itself.
// Bundled to dist/electron/preload.cjs: a sandboxed preload can require only 'electron' (and a
// few polyfilled built-ins), so everything else is inlined by esbuild.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { IpcResult, RequestChannel } from '../ipc/contract.ts';
import {
  channelsFromArgv,
  EVENT_CHANNEL,
  INVOKE_CHANNEL,
  TERMINAL_ATTACH_CHANNEL,
  TERMINAL_PORT_CHANNEL,
  type AttachReply,
  type AttachRequest,
} from './bridge-protocol.ts';
import { buildGatehouseApi } from './gatehouse-api.ts';
import { createPortTerminalStream } from './terminal-port.ts';

type PendingAttach = ReturnType<typeof createPortTerminalStream>;
const pendingAttaches = new Map<number, PendingAttach>();
let nextRequestId = 1;

ipcRenderer.on(TERMINAL_PORT_CHANNEL, (event: IpcRendererEvent, reply: AttachReply) => {
  const pending = pendingAttaches.get(reply?.requestId);
  const port = event.ports[0];
  if (!pending) {
    port?.close();
    return;
  }
  pendingAttaches.delete(reply.requestId);
  if (reply.error || !port) {
    console.error(`gatehouse: terminal attach refused: ${reply.error?.message ?? 'no port'}`);
    port?.close();
    pending.fail();
    return;
  }
  pending.bind(port);
});

const api = buildGatehouseApi(
  {
    invoke: (channel, input) => ipcRenderer.invoke(INVOKE_CHANNEL, channel, input) as Promise<IpcResult<unknown>>,
    subscribeEvents(listener) {
      ipcRenderer.on(EVENT_CHANNEL, (_event: IpcRendererEvent, name: unknown, payload: unknown) => {
        if (typeof name === 'string') listener(name, payload);
      });
    },
    attachTerminal(terminalId) {
      const pending = createPortTerminalStream();
      const requestId = nextRequestId++;
      pendingAttaches.set(requestId, pending);
      const request: AttachRequest = { requestId, terminalId };
      ipcRenderer.send(TERMINAL_ATTACH_CHANNEL, request);
      return pending.stream;
    },
  },
  channelsFromArgv<RequestChannel>(process.argv),
);

contextBridge.exposeInMainWorld('gatehouse', api);
