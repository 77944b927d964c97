// A program on this computer in a pseudo-terminal, shaped like the remote shell a terminal tab
// already knows (ShellChannel), so a gateway's "Run" (psql, mariadb) reuses TerminalSession's
// buffering, attach/detach and exit reporting instead of a second terminal implementation.
// node-pty because the clients are interactive (line editing, pagers): pipes would not do.
import { constants as osConstants } from 'node:os';
import { PassThrough, Writable } from 'node:stream';
import pty from 'node-pty';
import type { ExitStatus } from '../gateways/ssh/ssh-session.ts';
import type { OpenedShell, ShellChannel } from './terminal-session.ts';

export interface LocalProgram {
  /** Absolute path (see findClientProgram): never a name resolved by a shell. */
  file: string;
  args: string[];
  cols: number;
  rows: number;
  cwd: string;
  /** Added to the app's environment (TERM is always set). */
  env?: Record<string, string>;
}

/** Start function; tests pass one that runs a harmless program. */
export type SpawnLocalPty = (program: LocalProgram) => OpenedShell;

const signalNames = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name.replace(/^SIG/, '')]));

/** The exit as a terminal tab reports it: a signal by name, else the exit code. */
export function exitStatusOf(exitCode: number, signal: number | undefined): ExitStatus {
  if (signal) return { code: null, signal: signalNames.get(signal) ?? String(signal) };
  return { code: exitCode };
}

export const spawnLocalPty: SpawnLocalPty = (program) => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, program.env ?? {}, { TERM: 'xterm-256color' });
  const term = pty.spawn(program.file, program.args, {
    name: 'xterm-256color',
    cols: program.cols,
    rows: program.rows,
    cwd: program.cwd,
    env,
  });
  const stdout = new PassThrough();
  const exit = new Promise<ExitStatus>((resolve) => {
    term.onExit(({ exitCode, signal }) => {
      stdout.end();
      resolve(exitStatusOf(exitCode, signal));
    });
  });
  term.onData((data) => stdout.write(Buffer.from(data, 'utf8')));
  // Flow control (TerminalSession pauses stdout when the tab is behind): stop reading the pty, so
  // the program blocks on its writes instead of piling output up in this stream.
  stdout.on('pause', () => {
    if (!exited) term.pause();
  });
  stdout.on('resume', () => {
    if (!exited) term.resume();
  });
  let exited = false;
  void exit.then(() => (exited = true));
  const stdin = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!exited) term.write(chunk.toString('utf8'));
      done();
    },
  });
  const channel: ShellChannel = {
    stdin,
    stdout,
    exit,
    resize: (cols, rows) => {
      if (!exited) term.resize(cols, rows);
    },
    // SIGHUP, as a terminal window closing sends: psql and mariadb end cleanly on it.
    close: () => {
      if (!exited) term.kill('SIGHUP');
    },
  };
  return { connection: { close: channel.close }, channel };
};
