// Why a terminal's session ended, in words for people rather than "signal HUP". terminals.exit
// carries only the exit status, the signal and (when main knows it) an error; the node never says
// why it hung up. What it does say: a node that shuts down, a lock in force and a certificate that
// expired (disconnect_expired_cert) all write their message into the terminal and then hang up
// the shell (SIGHUP), and main adds error.details.lock for a lock. So the words name the likely
// cause from what the renderer knows and point at the server's own message above.
import type { EventPayloads } from '../../src-main/ipc/contract.ts';

export type SessionExit = Pick<EventPayloads['terminals.exit'], 'exitCode' | 'signal' | 'error'>;

export interface SessionEndContext {
  /** The cluster login behind the tab has expired (its certificates no longer open sessions). */
  sessionExpired?: boolean;
  /** The person closed it (Close session, Reconnect): no cause to find. */
  closedByUser?: boolean;
  /**
   * The tab ran a database client on this computer (psql, mariadb) rather than a shell on a
   * server: its exit is that program's, and no server hung anything up.
   */
  localProgram?: string;
}

/** A lock that cut the session, as main sends it (error.details.lock). */
export function lockOf(exit: SessionExit): { message: string; target: string } | undefined {
  const lock = exit.error?.details?.['lock'];
  if (typeof lock !== 'object' || lock === null) return undefined;
  const { message, target } = lock as Record<string, unknown>;
  if (typeof message !== 'string') return undefined;
  return { message, target: typeof target === 'string' ? target : '' };
}

/** Signals a shell dies of for reasons that are not the server's doing. */
const SIGNAL_WORDS: Record<string, string> = {
  KILL: 'the shell was killed on the server (signal KILL)',
  TERM: 'the server asked the shell to stop (signal TERM)',
  INT: 'the shell was interrupted (signal INT)',
  SEGV: 'the shell crashed on the server (signal SEGV)',
  ABRT: 'the shell crashed on the server (signal ABRT)',
};

/** One sentence: "Session ended: <why>." */
export function sessionEndText(exit: SessionExit, context: SessionEndContext = {}): string {
  const lock = lockOf(exit);
  if (lock) return `Session ended: locked by your administrator: ${lock.message}`;
  if (context.closedByUser) return 'Session closed.';
  if (context.localProgram) return localProgramEndText(exit, context.localProgram);
  if (exit.exitCode === 0) return 'Session ended: you logged out of the server (the shell exited).';
  if (exit.exitCode !== null)
    return `Session ended: the shell exited with status ${exit.exitCode} (the last command failed or the shell was told to exit).`;
  if (exit.signal === 'HUP') {
    if (context.sessionExpired) return 'Session ended: your session expired. Log in again, then reconnect.';
    return (
      'Session ended: the server closed the connection (it restarted or shut down, your access was locked, ' +
      'or your certificate expired). Its message, if any, is above.'
    );
  }
  if (exit.signal)
    return `Session ended: ${SIGNAL_WORDS[exit.signal] ?? `the shell was stopped by signal ${exit.signal}`}.`;
  if (context.sessionExpired) return 'Session ended: your session expired. Log in again, then reconnect.';
  return 'Session ended: the connection to the server closed.';
}

/** A local client's end: "psql exited." or with its status / signal. */
function localProgramEndText(exit: SessionExit, program: string): string {
  if (exit.exitCode === 0) return `Session ended: ${program} exited.`;
  if (exit.exitCode !== null) return `Session ended: ${program} exited with status ${exit.exitCode}.`;
  if (exit.signal) return `Session ended: ${program} was stopped by signal ${exit.signal}.`;
  return `Session ended: ${program} stopped.`;
}
