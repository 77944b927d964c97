// One terminal tab's remote shell: connects in the background (open() answers at once with the
// id), buffers output until a stream attaches (and again while none is attached), queues input
// typed before the shell is ready, and reports the end exactly once — exit status, signal, or
// the error that refused or broke it (a refusal at the node is "ssh: rejected: administratively
// prohibited (...)" → ACCESS_DENIED, mapped in the core). Output is bytes end to end (xterm decodes
// UTF-8 itself, keeping a character split across chunks); the attached stream can pause the
// reading of the channel so a renderer behind on parsing pushes back to the SSH server.
//
// Output in flight after Ctrl+C in a flood is drawn before the prompt, so every stage between the
// shell and xterm is bounded (BENCHMARKS.md "Issue 16: Ctrl+C in a flood"):
//   node: the pty's writer blocks once the channel's SSH window is used up;
//   SSH window the client grants on a pty channel: PTY_CHANNEL_WINDOW (256 KiB; bulk keeps 8 MiB);
//   ssh2's channel stream while paused: at most one window (its highWaterMark is the window);
//   this session → renderer (WebSocket / MessagePort, kernel socket buffers, frames not yet
//     handled, xterm's unparsed input): delivered but not yet reported parsed, at most
//     OUTPUT_IN_FLIGHT_LIMIT before the channel is paused (the renderer reports parsed bytes);
//   the renderer's own queue: paused above its high watermark (terminal-output.ts), inside the above.
// Without the in-flight limit the kernel's loopback socket buffers alone held 7–17 MiB.
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { ExitStatus } from '../gateways/ssh/ssh-session.ts';
import type { EventPayloads } from '../ipc/contract.ts';
import type { TerminalAttachment, TerminalOutputListener } from '../ipc/dispatcher.ts';
import { toIpcError } from '../ipc/ipc-errors.ts';
import type { AppLogger } from './logger.ts';
import { findLockNotice, OutputTail, type TerminalLock } from './terminal-lock.ts';

/** The parts of an SshChannel a terminal uses (SshChannel fits; tests pass streams). */
export interface ShellChannel {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr?: Readable;
  readonly exit: Promise<ExitStatus>;
  resize(cols: number, rows: number): void;
  close(): void;
}

export interface ShellConnection {
  close(): void;
}

export interface OpenedShell {
  connection: ShellConnection;
  channel: ShellChannel;
}

export type TerminalExit = EventPayloads['terminals.exit'];

export interface TerminalSessionOptions {
  id: string;
  cols: number;
  rows: number;
  /** Opens the connection and the shell with the given size. */
  connect: (cols: number, rows: number) => Promise<OpenedShell>;
  onExit: (exit: TerminalExit) => void;
  log: AppLogger;
  /** Bytes of output kept while nobody is attached; older output is dropped first. */
  bufferLimit?: number;
  /** How long close() waits for the remote end before reporting the exit anyway. */
  closeGraceMs?: number;
}

export const DEFAULT_BUFFER_LIMIT = 1 << 20;
/**
 * Output bytes delivered to the attached stream and not yet reported parsed, above which the
 * channel is paused; it resumes at half. Enough for xterm's parse rate over an ack's round trip.
 */
export const OUTPUT_IN_FLIGHT_LIMIT = 1 << 20;
const INPUT_QUEUE_LIMIT = 1 << 16;

export class TerminalSession {
  readonly id: string;
  private state: 'connecting' | 'open' | 'ended' = 'connecting';
  private shell: OpenedShell | undefined;
  private cols: number;
  private rows: number;
  private closeRequested = false;
  private listener: TerminalOutputListener | undefined;
  private buffer: Buffer[] = [];
  private buffered = 0;
  private pendingInput: Buffer = Buffer.alloc(0);
  /** The attached stream asked to stop output (flow control); applied to the channel once open. */
  private outputPaused = false;
  /** Delivered to the attached stream, not yet reported parsed (OUTPUT_IN_FLIGHT_LIMIT). */
  private inFlight = 0;
  /** Paused because inFlight passed the limit (independent of the stream's own pause). */
  private inFlightPaused = false;
  /** Decodes output for the lock tail only: what is delivered stays bytes. */
  private readonly tailDecoder = new StringDecoder('utf8');
  private readonly bufferLimit: number;
  /** The last output, where the node writes a lock's text before it hangs up. */
  private readonly tail = new OutputTail();
  /** Resolves once the end was reported. */
  readonly ended: Promise<TerminalExit>;
  private resolveEnded!: (e: TerminalExit) => void;

  constructor(private readonly opts: TerminalSessionOptions) {
    this.id = opts.id;
    this.cols = opts.cols;
    this.rows = opts.rows;
    this.bufferLimit = opts.bufferLimit ?? DEFAULT_BUFFER_LIMIT;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  get isEnded(): boolean {
    return this.state === 'ended';
  }

  /** Starts connecting; failures end the terminal (they are reported, never thrown). */
  start(): void {
    this.opts.connect(this.cols, this.rows).then(
      (shell) => this.onOpened(shell),
      (e: unknown) => {
        const error = toIpcError(e, this.opts.log, { terminal: this.id });
        // Refused under a lock: the refusal carries the lock's text; the renderer shows it as one.
        const lock = findLockNotice(error.message);
        if (lock) error.details = { ...error.details, lock };
        this.finish({ exitCode: null, error });
      },
    );
  }

  /** Sends output to `onData` from now on (first whatever was buffered); replaces an earlier attachment. */
  attach(onData: TerminalOutputListener): TerminalAttachment {
    this.listener = onData;
    // A pause belongs to the stream that asked for it; a new one starts reading.
    this.inFlight = 0;
    this.inFlightPaused = false;
    this.setOutputPaused(false);
    const pending = Buffer.concat(this.buffer);
    this.buffer = [];
    this.buffered = 0;
    if (pending.length > 0) this.deliver(pending, false);
    const current = () => this.listener === onData;
    return {
      write: (data) => {
        if (current()) this.write(data);
      },
      pause: () => {
        if (current()) this.setOutputPaused(true);
      },
      resume: () => {
        if (current()) this.setOutputPaused(false);
      },
      parsed: (bytes) => {
        if (current()) this.onParsed(bytes);
      },
      detach: () => {
        if (!current()) return;
        this.listener = undefined;
        this.inFlight = 0;
        this.inFlightPaused = false;
        // Nobody reads now: output goes to the bounded buffer instead of stalling the shell.
        this.setOutputPaused(false);
      },
    };
  }

  write(data: string | Uint8Array): void {
    if (this.state === 'ended' || this.closeRequested) return;
    if (this.state === 'connecting') {
      // Typed before the shell was there (e.g. a paste right after opening): keep it, within reason.
      const queued = Buffer.concat([this.pendingInput, typeof data === 'string' ? Buffer.from(data) : data]);
      this.pendingInput = queued.subarray(Math.max(0, queued.length - INPUT_QUEUE_LIMIT));
      return;
    }
    this.shell!.channel.stdin.write(data);
  }

  private setOutputPaused(paused: boolean): void {
    this.outputPaused = paused;
    this.applyPause();
  }

  private onParsed(bytes: number): void {
    this.inFlight = Math.max(0, this.inFlight - bytes);
    if (this.inFlightPaused && this.inFlight <= OUTPUT_IN_FLIGHT_LIMIT / 2) {
      this.inFlightPaused = false;
      this.applyPause();
    }
  }

  /** The channel reads while neither the stream nor the in-flight limit holds it. */
  private applyPause(): void {
    if (this.state !== 'open') return;
    const paused = this.outputPaused || this.inFlightPaused;
    const { stdout, stderr } = this.shell!.channel;
    for (const stream of stderr ? [stdout, stderr] : [stdout]) {
      if (paused) stream.pause();
      else stream.resume();
    }
  }

  resize(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
    if (this.state === 'open') this.shell!.channel.resize(cols, rows);
  }

  /** Ends the remote session; the exit is reported when the node confirms (or after a grace period). */
  close(): void {
    if (this.state === 'ended' || this.closeRequested) return;
    this.closeRequested = true;
    if (this.state === 'connecting') {
      // onOpened closes the connection when it arrives; the tab is gone now.
      this.finish({ exitCode: null });
      return;
    }
    const shell = this.shell!;
    shell.channel.close();
    shell.connection.close();
    const timer = setTimeout(() => this.finish({ exitCode: null }), this.opts.closeGraceMs ?? 5_000);
    timer.unref();
    void this.ended.then(() => clearTimeout(timer));
  }

  private onOpened(shell: OpenedShell): void {
    this.shell = shell;
    if (this.state === 'ended') {
      shell.channel.close();
      shell.connection.close();
      return;
    }
    this.state = 'open';
    shell.channel.stdout.on('data', (b: Buffer) => this.deliver(b));
    shell.channel.stderr?.on('data', (b: Buffer) => this.deliver(b));
    if (this.outputPaused || this.inFlightPaused) this.applyPause();
    // Errors surface as the channel closing; without a listener they would crash the process.
    shell.channel.stdin.on('error', (e: Error) => this.opts.log.debug('terminal input failed', { error: e.message }));
    if (this.cols !== this.opts.cols || this.rows !== this.opts.rows) shell.channel.resize(this.cols, this.rows);
    if (this.pendingInput.length > 0) {
      shell.channel.stdin.write(this.pendingInput);
      this.pendingInput = Buffer.alloc(0);
    }
    void shell.channel.exit.then((status) => {
      shell.connection.close();
      this.finish(this.exitOf(status));
    });
  }

  private exitOf(status: ExitStatus): TerminalExit {
    const exit: TerminalExit = { terminalId: this.id, exitCode: status.code };
    if (status.signal) exit.signal = status.signal;
    // Only a session the node ended (no exit code): a shell that printed a lock line (a log being
    // read) and exited normally was not cut by it.
    const lock = this.closeRequested || status.code !== null ? undefined : findLockNotice(this.tail.toString());
    if (lock) {
      exit.error = lockedError(lock);
      return exit;
    }
    if (status.code === null && !status.signal && !this.closeRequested) {
      // The shell did not say how it ended: the connection to the node went away under it.
      exit.error = {
        code: ErrorCode.NODE_UNREACHABLE,
        message: 'the connection to the node ended without an exit status',
      };
    }
    return exit;
  }

  private finish(exit: Omit<TerminalExit, 'terminalId'> | TerminalExit): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.pendingInput = Buffer.alloc(0);
    const full: TerminalExit = { ...exit, terminalId: this.id };
    this.opts.log.info('terminal ended', {
      terminal: this.id,
      exit_code: full.exitCode,
      ...(full.signal ? { signal: full.signal } : {}),
      ...(full.error ? { error: full.error.code } : {}),
    });
    this.resolveEnded(full);
    this.opts.onExit(full);
  }

  private deliver(data: Buffer, toTail = true): void {
    if (data.length === 0) return;
    if (toTail) this.tail.push(this.tailDecoder.write(data));
    if (this.listener) {
      try {
        this.listener(data);
        this.inFlight += data.length;
        if (!this.inFlightPaused && this.inFlight > OUTPUT_IN_FLIGHT_LIMIT) {
          this.inFlightPaused = true;
          this.applyPause();
        }
        return;
      } catch (e) {
        this.opts.log.warn('terminal stream listener failed', { terminal: this.id, error: (e as Error).message });
      }
    }
    this.buffer.push(data);
    this.buffered += data.length;
    while (this.buffer.length > 1 && this.buffered - this.buffer[0]!.length >= this.bufferLimit) {
      this.buffered -= this.buffer.shift()!.length;
    }
    if (this.buffered > this.bufferLimit) {
      this.buffer[0] = this.buffer[0]!.subarray(this.buffered - this.bufferLimit);
      this.buffered = this.bufferLimit;
    }
  }
}

/** A session a lock cut: ACCESS_DENIED with the lock, so the tab says who locked what and why. */
export function lockedError(lock: TerminalLock): NonNullable<TerminalExit['error']> {
  return {
    code: ErrorCode.ACCESS_DENIED,
    message: `locked by your administrator: ${lock.message} (${lock.target})`,
    details: { lock },
  };
}

export function unknownTerminal(id: string): GatehouseError {
  return new GatehouseError(ErrorCode.NOT_FOUND, `there is no terminal "${id}"`, { terminalId: id });
}
