// Runs a session's program and moves bytes between it and the SSH channel: in a real PTY when
// the client asked for one, otherwise with separate stdout/stderr pipes. Both directions respect
// back-pressure so a slow client cannot make the node buffer without bound.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as pty from 'node-pty';
import type { ServerChannel } from 'ssh2';

export interface ProcessSpec {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/** Pty output waiting in the SSH channel (the client's window used up) above which the pty is paused. */
export const PTY_OUTPUT_QUEUE_LIMIT = 64 * 1024;

export interface PtySize {
  term: string;
  cols: number;
  rows: number;
}

/** Who the terminal device should belong to (as sshd does: the user, group tty, mode 0620). */
export interface PtyOwner {
  uid: number;
  gid: number;
}

/** How the program ended; `signal` is the bare name ("TERM"), as SSH's exit-signal wants it. */
export type ExitResult = { code: number; signal?: undefined } | { code?: undefined; signal: string };

export interface SessionProcess {
  readonly pid: number;
  /** Resolves once the program has exited and its output has been handed to the channel. */
  readonly exited: Promise<ExitResult>;
  kill(signal: NodeJS.Signals): void;
  resize(cols: number, rows: number): void;
  /** Stops forwarding the program's output (used when the node shuts the session down). */
  muteOutput(): void;
}

const signalNames = new Map<number, string>(
  Object.entries(osConstants.signals).map(([name, num]) => [num, name.replace(/^SIG/, '')]),
);

function clampSize(n: number, fallback: number): number {
  return Number.isInteger(n) && n > 0 && n <= 10_000 ? n : fallback;
}

export function startPtyProcess(
  channel: ServerChannel,
  spec: ProcessSpec,
  size: PtySize,
  owner?: PtyOwner,
): SessionProcess {
  const term = pty.spawn(spec.file, spec.args, {
    name: size.term || 'xterm',
    cols: clampSize(size.cols, 80),
    rows: clampSize(size.rows, 24),
    cwd: spec.cwd,
    env: spec.env,
    // Buffers, not strings: a UTF-8 sequence split across reads must reach the client intact.
    encoding: null,
  });
  if (owner) {
    // node-pty leaves the device to the node's user. The program is still exec'ing setpriv and
    // its shell at this point, so it finds the terminal already its own.
    const pts = (term as unknown as { ptsName?: string }).ptsName;
    if (!pts) {
      term.kill('SIGKILL');
      throw new Error('node-pty did not report the terminal device name');
    }
    try {
      chownSync(pts, owner.uid, owner.gid);
      chmodSync(pts, 0o620);
    } catch (err) {
      term.kill('SIGKILL');
      throw new Error(`cannot hand terminal ${pts} to the user: ${(err as Error).message}`);
    }
  }
  let muted = false;
  // The pty is read only while little waits in the channel: output queued here has left the
  // program, so Ctrl+C cannot stop it and it is all drawn before the prompt. ssh2's own bound
  // (write() false) is its 8 MiB highWaterMark; like sshd, read the pty only while the queue
  // beyond the client's SSH window is small. Each write's callback runs once ssh2 sent it.
  let outputPaused = false;
  const resumeWhenSent = () => {
    if (outputPaused && !muted && channel.writableLength <= PTY_OUTPUT_QUEUE_LIMIT) {
      outputPaused = false;
      term.resume();
    }
  };
  term.onData((data: string | Buffer) => {
    if (muted) return;
    channel.write(data, resumeWhenSent);
    if (!outputPaused && channel.writableLength > PTY_OUTPUT_QUEUE_LIMIT) {
      outputPaused = true;
      term.pause();
    }
  });
  const onInput = (data: Buffer) => term.write(data);
  channel.on('data', onInput);
  const exited = new Promise<ExitResult>((resolve) => {
    term.onExit(({ exitCode, signal }) => {
      channel.off('data', onInput);
      if (signal) resolve({ signal: signalNames.get(signal) ?? `${signal}` });
      else resolve({ code: exitCode });
    });
  });
  return {
    pid: term.pid,
    exited,
    kill: (signal) => {
      try {
        term.kill(signal);
      } catch {
        // already gone
      }
    },
    resize: (cols, rows) => {
      try {
        term.resize(clampSize(cols, 80), clampSize(rows, 24));
      } catch {
        // the pty closed under us; nothing to resize
      }
    },
    muteOutput: () => {
      muted = true;
      outputPaused = false;
      term.resume();
    },
  };
}

export function startPipedProcess(channel: ServerChannel, spec: ProcessSpec): SessionProcess {
  const child = spawn(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group, so that kill() reaches what the command started, too.
    detached: true,
  });
  let muted = false;
  child.stdout.pipe(channel, { end: false });
  child.stderr.pipe(channel.stderr, { end: false });
  channel.pipe(child.stdin);
  // The program may exit without reading its input; that is not the node's error.
  child.stdin.on('error', () => {});

  const exited = new Promise<ExitResult>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
      if (child.pid === undefined) {
        writeStderr(channel, `gatehouse: cannot start ${spec.file}: ${err.message}\n`);
        resolve({ code: 127 });
      }
    });
    child.once('close', (code, signal) => {
      channel.unpipe(child.stdin);
      if (spawnError && child.pid === undefined) return;
      if (signal) resolve({ signal: signal.replace(/^SIG/, '') });
      else resolve({ code: code ?? 255 });
    });
  });
  return {
    get pid() {
      return child.pid ?? -1;
    },
    exited,
    kill: (signal) => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        child.kill(signal);
      }
    },
    resize: () => {},
    muteOutput: () => {
      if (muted) return;
      muted = true;
      child.stdout.unpipe(channel);
      child.stderr.unpipe(channel.stderr);
      child.stdout.resume();
      child.stderr.resume();
    },
  };
}

function writeStderr(channel: ServerChannel, text: string): void {
  if (channel.stderr.writable) channel.stderr.write(text);
}
