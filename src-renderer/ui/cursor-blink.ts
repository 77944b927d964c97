// The terminal cursor's blink for xterm's DOM renderer, driven by a timer instead of xterm's CSS
// animation. Why: xterm (DOM renderer, cursorBlink on) blinks with an infinite `step-end` CSS
// animation, and Chromium services a running main-thread animation in EVERY frame. So the page
// never idles, the main thread spends each frame in BeginMainFrame + commit, and a WebSocket
// message (the echo of a keystroke) that arrives meanwhile waits for it: in headless Chromium a
// keystroke's echo frame reached the page 13–14 ms after keydown with the animation and 4–6 ms
// without it (BENCHMARKS.md, "Issue 16: keystroke echo"). A timer that flips one attribute twice
// a second costs two frames a second instead of sixty.
// Rules, as terminals do: typing keeps the cursor from blinking (each key restarts the period, and
// touches no DOM, so the keystroke itself does not cause a frame); when the cursor moves (the echo
// is drawn) it is shown, in the frame xterm renders anyway; unfocused, it stays shown (xterm draws
// its inactive outline). No DOM or xterm import, so it runs under node:test.

/** Half a blink period: xterm's own blink (WebGL renderer) uses 600 ms too. */
export const CURSOR_BLINK_INTERVAL_MS = 600;

export interface BlinkTimers {
  setInterval(callback: () => void, ms: number): number;
  clearInterval(handle: number): void;
}

export interface CursorBlink {
  /** Focus came in: show the cursor and start blinking. */
  start(): void;
  /** A key went down: restart the period without touching the cursor (no frame for the key). */
  keyPressed(): void;
  /** The cursor moved (xterm renders this frame anyway): show it and restart the period. */
  cursorMoved(): void;
  /** Focus left, another renderer took over, or the terminal closed: cursor shown, no timer. */
  stop(): void;
  readonly shown: boolean;
  readonly running: boolean;
}

/** `show(shown)` changes what is drawn (an attribute the stylesheet reads); called only on a change. */
export function createCursorBlink(
  show: (shown: boolean) => void,
  timers: BlinkTimers,
  intervalMs = CURSOR_BLINK_INTERVAL_MS,
): CursorBlink {
  if (!(intervalMs > 0)) throw new RangeError(`the blink interval must be positive, got ${intervalMs}`);
  let shown = true;
  let timer: number | undefined;

  const set = (next: boolean) => {
    if (next === shown) return;
    shown = next;
    show(next);
  };
  const restartTimer = () => {
    if (timer !== undefined) timers.clearInterval(timer);
    timer = timers.setInterval(() => set(!shown), intervalMs);
  };

  return {
    start() {
      set(true);
      restartTimer();
    },
    keyPressed() {
      if (timer !== undefined) restartTimer();
    },
    cursorMoved() {
      if (timer === undefined) return;
      set(true);
      restartTimer();
    },
    stop() {
      if (timer !== undefined) timers.clearInterval(timer);
      timer = undefined;
      set(true);
    },
    get shown() {
      return shown;
    },
    get running() {
      return timer !== undefined;
    },
  };
}
