// What `gate` and `gatectl` do when the reader of their output goes away (`gatectl devices ls |
// head -1`): end at once and quietly, as coreutils do. Why: Node ignores SIGPIPE, so a write to a
// closed pipe fails with EPIPE instead, and a stream error nobody listens to crashes the process
// with a stack trace on stderr (exit status 1) in the middle of an ordinary pipeline. A program
// written in C gets the default SIGPIPE action: it dies of the signal, and the shell reports
// 128 + 13 = 141 (what `set -o pipefail` scripts and `${PIPESTATUS[@]}` already expect from
// `seq 1000000 | head -1`). So on EPIPE the process ends the same way.
import type { Writable } from 'node:stream';

/** The shell's exit status for a process that SIGPIPE ended: 128 + the signal number. */
export const SIGPIPE_EXIT_STATUS = 141;

const isEpipe = (err: unknown) => (err as NodeJS.ErrnoException | null | undefined)?.code === 'EPIPE';

/**
 * Ends this process the way an uncaught SIGPIPE does. Node sets SIGPIPE to "ignore" at start;
 * adding and removing a listener hands the signal back to its default action (libuv restores
 * SIG_DFL when the last listener goes), so raising it then ends the process by the signal. The
 * exit status is the fallback should the signal not end it (a platform without SIGPIPE).
 */
export function endBySigpipe(): never {
  const restoreDefault = () => {};
  try {
    process.on('SIGPIPE', restoreDefault);
    process.off('SIGPIPE', restoreDefault);
    process.kill(process.pid, 'SIGPIPE');
  } catch {
    // No SIGPIPE here (Windows): the exit status below says the same.
  }
  process.exit(SIGPIPE_EXIT_STATUS);
}

/**
 * Makes a closed reader end the process (`end`, by default as SIGPIPE would) instead of crashing
 * it; any other error on these streams is still thrown as before. Call first thing in an
 * executable's entry point, before anything is written.
 */
export function endOnClosedOutput(
  streams: Writable[] = [process.stdout, process.stderr],
  end: () => void = endBySigpipe,
): void {
  for (const stream of streams) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (isEpipe(err)) end();
      else throw err;
    });
  }
}

/**
 * Exits with `code` once stdout and stderr have taken all that was written, or as SIGPIPE would
 * if a reader closed either before it had all of it. Why here and not only in the error listener:
 * a failed write to a pipe emits 'error' only after the stream's handle has closed, a loop turn
 * later, and a command that returned meanwhile would exit 0 as if its output had been read.
 */
export function exitWhenFlushed(code: number): void {
  const streams = [process.stdout, process.stderr];
  if (streams.some((s) => isEpipe(s.errored))) endBySigpipe();
  // Only output still queued can be lost: the empty write that waits for it may itself fail with
  // EPIPE when nothing was queued and the reader (`head -2` having read its lines) has gone,
  // which coreutils, writing nothing more, would never see.
  const queued = streams.some((s) => s.writableLength > 0);
  process.stdout.write('', (outError) =>
    process.stderr.write('', (errError) => {
      if (queued && (isEpipe(outError) || isEpipe(errError))) endBySigpipe();
      process.exit(code);
    }),
  );
}
