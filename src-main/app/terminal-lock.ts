// How a lock that cuts a terminal reaches the app. The node has no structured way to say it: it
// writes the lock's text into the session (`\r\nlock targeting User:"alice" is in force: msg\r\n`,
// src-cluster/node/session.ts terminate()) and then hangs the shell up; a new connection under a
// lock is refused with the same text inside "ssh: rejected: administratively prohibited (...)".
// The app reads that text back out of the terminal's last output (or the refusal) so the renderer
// can show "Locked by your administrator" with the target instead of a bare hang-up.

/** The lock as the renderer shows it (contract: terminals.exit error.details.lock). */
export interface TerminalLock {
  /** The administrator's message, or the whole lock line when the lock has none. */
  message: string;
  /** Who or what is locked, the cluster's notation: `User:"alice"`, `Device:"<id>"`, `Role:"dev"`. */
  target: string;
}

/** Output kept to look for the lock line: the node writes it last, so a short tail holds it. */
export const LOCK_TAIL_CHARS = 4096;

// src-cluster/resources/lock.ts lockMessage(): `lock targeting ${Kind}:${JSON string} is in force[: message]`.
const LOCK_LINE = /(\()?lock targeting ([A-Za-z]+:"(?:[^"\\\r\n]|\\.)*") is in force(?:: ([^\r\n]*))?/g;

/** The last lock line in `text`, if any. */
export function findLockNotice(text: string): TerminalLock | undefined {
  let found: TerminalLock | undefined;
  for (const m of text.matchAll(LOCK_LINE)) {
    const wrapped = m[1] !== undefined;
    const target = m[2]!;
    // Inside a refusal "(...)" the line ends with the wrapper's ")", which is not the lock's.
    const unwrap = (t: string): string => (wrapped ? t.replace(/\)\s*$/, '') : t).trim();
    const message = m[3] !== undefined ? unwrap(m[3]) : '';
    found = { target, message: message || unwrap(m[0].slice(wrapped ? 1 : 0)) };
  }
  return found;
}

/** A lock on this user or this device: the whole app's trust changed, not just one terminal. */
export function lockConcernsUserOrDevice(lock: TerminalLock): boolean {
  return /^(User|Device):/.test(lock.target);
}

/** The last LOCK_TAIL_CHARS characters of a stream of text. */
export class OutputTail {
  private text = '';

  constructor(private readonly limit: number = LOCK_TAIL_CHARS) {}

  push(data: string): void {
    this.text = (this.text + data).slice(-this.limit);
  }

  toString(): string {
    return this.text;
  }
}
