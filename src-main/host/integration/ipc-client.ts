// Test-only: a WebSocket client speaking the browser host's protocol the way the renderer's
// bridge does, recording events and terminal output so tests can wait for them.
import WebSocket from 'ws';
import type { EventChannel, IpcResult } from '../../ipc/contract.ts';
import { TerminalFrameKind, decodeTerminalFrame, encodeTerminalFrame } from '../../../src-shared/terminal-frame.ts';

export interface Refusal {
  status: number;
}

/** Connects, or resolves with the HTTP status the host refused the upgrade with. */
export function connectRaw(url: string, origin: string | undefined): Promise<WebSocket | Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

export class IpcClient {
  readonly events: Array<{ event: EventChannel; payload: Record<string, unknown> }> = [];
  readonly output = new Map<string, string>();
  closed: { code: number; reason: string } | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (r: IpcResult<unknown>) => void>();
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const { terminalId, data: bytes } = decodeTerminalFrame(data as Buffer, TerminalFrameKind.output);
        this.output.set(terminalId, (this.output.get(terminalId) ?? '') + Buffer.from(bytes).toString('utf8'));
        this.poke();
        return;
      }
      const frame = JSON.parse(data.toString()) as {
        type: string;
        id?: number;
        result?: IpcResult<unknown>;
        event?: EventChannel;
        payload?: Record<string, unknown>;
      };
      if (frame.type === 'result') this.pending.get(frame.id!)?.(frame.result!);
      else if (frame.type === 'event') this.events.push({ event: frame.event!, payload: frame.payload! });
      this.poke();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.poke();
    });
  }

  static async connect(url: string, origin: string): Promise<IpcClient> {
    const ws = await connectRaw(url, origin);
    if (!(ws instanceof WebSocket)) throw new Error(`the host refused the connection with ${ws.status}`);
    return new IpcClient(ws);
  }

  invoke(channel: string, input: unknown = {}): Promise<IpcResult<unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send({ type: 'invoke', id, channel, input });
    });
  }

  /** The value of a call that must succeed. */
  async call<T>(channel: string, input: unknown = {}): Promise<T> {
    const r = await this.invoke(channel, input);
    if (!r.ok) throw new Error(`${channel} failed: ${r.error.code}: ${r.error.message}`);
    return r.value as T;
  }

  send(frame: unknown): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Keys to a terminal, as a binary input frame (the way the renderer sends them). */
  type(terminalId: string, text: string): void {
    this.ws.send(encodeTerminalFrame(TerminalFrameKind.input, terminalId, Buffer.from(text)), { binary: true });
  }

  async until<T>(what: string, check: () => T | undefined | false, ms = 20_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          this.waiters.delete(done);
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(done, 100);
        this.waiters.add(done);
      });
    }
  }

  exitOf(terminalId: string): Record<string, unknown> | undefined {
    return this.events.find((e) => e.event === 'terminals.exit' && e.payload.terminalId === terminalId)?.payload;
  }

  close(): void {
    this.ws.close();
  }

  private poke(): void {
    for (const w of [...this.waiters]) w();
  }
}
