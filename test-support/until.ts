// Polling for a condition in tests that watch another process (a pty's screen, a daemon's log):
// the probe returns the value once it is there, undefined until then.

/** Resolves with the probe's first defined value; rejects naming `what` after `ms`. */
export async function until<T>(what: string, probe: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
