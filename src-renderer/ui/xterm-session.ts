// The xterm widget of one tab: fit-to-container (ResizeObserver + window resize), sizes reported
// to main, clipboard on Ctrl+Shift+C / Ctrl+Shift+V (plain Ctrl+C stays the shell's interrupt),
// Ctrl+Shift+ArrowUp to move focus out (a terminal takes Tab and Escape for itself), the app's
// shortcuts passed on (shortcuts/keymap.ts), and the byte stream wired both ways while a session
// is attached: output through the flow-controlled pump (terminal-output.ts), keys straight out.
// Drawn with the WebGL renderer where the GPU allows it, else xterm's DOM renderer; the host
// element's data-renderer says which ("webgl" | "dom") for QA and the e2e suite. The DOM
// renderer's cursor blinks by timer (cursor-blink.ts; the host's data-cursor), not by xterm's CSS
// animation, which kept every frame busy and held a keystroke's echo behind it.
import { Terminal, type IDisposable } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import type { TerminalStream } from '../../src-main/ipc/contract.ts';
import { shortcutFor } from '../shortcuts/keymap.ts';
import { createCursorBlink } from './cursor-blink.ts';
import { createOutputPump } from './terminal-output.ts';
import { hasGpuWebgl2 } from './webgl-support.ts';

export type TerminalRendererKind = 'webgl' | 'dom';

export const terminalTheme = {
  background: '#0f141b',
  foreground: '#d9dee7',
  cursor: '#9ab8ff',
  cursorAccent: '#0f141b',
  selectionBackground: 'rgba(154, 184, 255, 0.35)',
  black: '#1b2230',
  red: '#f0787a',
  green: '#8fd18f',
  yellow: '#e6c274',
  blue: '#7fa8f5',
  magenta: '#c79bef',
  cyan: '#71cfd9',
  white: '#d9dee7',
  brightBlack: '#5e6a7d',
  brightRed: '#ff9a9c',
  brightGreen: '#abe5ab',
  brightYellow: '#f2d596',
  brightBlue: '#a4c2ff',
  brightMagenta: '#dab8f7',
  brightCyan: '#96e0e8',
  brightWhite: '#ffffff',
};

/** The terminal's options; bench/xterm-baseline-page.ts uses them too, so its baseline renders alike. */
export const XTERM_OPTIONS = {
  fontFamily: 'ui-monospace, "SFMono-Regular", "Cascadia Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace',
  fontSize: 13,
  lineHeight: 1.2,
  // The cursor does blink: attachCursorBlink drives it by timer on the DOM renderer, and the WebGL
  // renderer turns xterm's own (timer-driven) blink on. xterm's blink on the DOM renderer is an
  // endless CSS animation that keeps every frame busy (see cursor-blink.ts).
  cursorBlink: false,
  scrollback: 5000,
  theme: terminalTheme,
  allowProposedApi: false,
} as const;

export interface XtermSession {
  readonly cols: number;
  readonly rows: number;
  /** Fits to the container now, if it is visible. */
  fit(): void;
  focus(): void;
  /** Clears screen and scrollback (a reconnect starts fresh). */
  reset(): void;
  /** Shows the stream's output and sends typed input to it while `canWrite()`. Returns detach. */
  connect(stream: TerminalStream, canWrite: () => boolean): () => void;
  dispose(): void;
}

export interface XtermCallbacks {
  onResize(cols: number, rows: number): void;
  /** Ctrl+Shift+ArrowUp: the person wants keyboard focus back outside the terminal. */
  onLeave(): void;
}

export function createXtermSession(host: HTMLElement, callbacks: XtermCallbacks, win: Window = window): XtermSession {
  const term = new Terminal(XTERM_OPTIONS);
  const fitAddon = new FitAddon();
  term.loadAddon(fitAddon);
  term.open(host);

  const clipboard = win.navigator.clipboard as Clipboard | undefined;
  term.attachCustomKeyEventHandler((e) => {
    // The app's own shortcuts (tab moves, Ctrl+Shift+T/K/?): xterm leaves them alone and they
    // bubble to the window's listener (use-app-shortcuts); everything else is the shell's.
    if (shortcutFor(e, true)) return false;
    const combo = e.ctrlKey && e.shiftKey && !e.altKey && !e.metaKey;
    if (!combo || (e.code !== 'KeyC' && e.code !== 'KeyV' && e.code !== 'ArrowUp')) return true;
    if (e.type === 'keydown') {
      e.preventDefault();
      if (e.code === 'ArrowUp') {
        callbacks.onLeave();
      } else if (e.code === 'KeyC') {
        const selection = term.getSelection();
        if (selection) clipboard?.writeText(selection).catch(() => {});
      } else {
        clipboard
          ?.readText()
          .then((text) => {
            if (text) term.paste(text);
          })
          .catch(() => {});
      }
    }
    return false;
  });

  let frame = 0;
  const fitNow = () => {
    frame = 0;
    if (host.clientWidth === 0 || host.clientHeight === 0) return; // hidden tab
    fitAddon.fit();
  };
  const scheduleFit = () => {
    if (!frame) frame = win.requestAnimationFrame(fitNow);
  };
  const observer = new ResizeObserver(scheduleFit);
  observer.observe(host);
  win.addEventListener('resize', scheduleFit);
  const resizeSub = term.onResize(({ cols, rows }) => callbacks.onResize(cols, rows));
  fitNow();
  let disposed = false;
  host.dataset.renderer = 'dom';
  let blink: IDisposable | undefined = attachCursorBlink(term, host, win);
  void useWebglRenderer(term, host, () => disposed, {
    // xterm's WebGL renderer blinks by timer itself, without a CSS animation.
    webgl() {
      blink?.dispose();
      blink = undefined;
      term.options.cursorBlink = true;
    },
    dom() {
      term.options.cursorBlink = false;
      blink ??= attachCursorBlink(term, host, win);
    },
  });

  return {
    get cols() {
      return term.cols;
    },
    get rows() {
      return term.rows;
    },
    fit: fitNow,
    focus: () => term.focus(),
    reset: () => term.reset(),
    connect(stream, canWrite) {
      const pump = createOutputPump({ write: (data, parsed) => term.write(data, parsed) }, stream, {
        request: (cb) => win.requestAnimationFrame(cb),
        cancel: (handle) => win.cancelAnimationFrame(handle),
      });
      const offData = stream.onData((data) => pump.push(data));
      const input = term.onData((data) => {
        if (canWrite()) stream.write(data);
      });
      return () => {
        offData();
        input.dispose();
        pump.dispose();
        stream.close();
      };
    },
    dispose() {
      disposed = true;
      blink?.dispose();
      if (frame) win.cancelAnimationFrame(frame);
      observer.disconnect();
      win.removeEventListener('resize', scheduleFit);
      resizeSub.dispose();
      term.dispose();
    },
  };
}

/**
 * Blinks the cursor of xterm's DOM renderer by timer: the host's data-cursor is "on" or "off",
 * and terminal.css hides the focused block cursor while it is "off". Needs XTERM_OPTIONS'
 * cursorBlink false (else xterm's CSS animation runs too). bench/xterm-baseline-page.ts uses it.
 */
export function attachCursorBlink(term: Terminal, host: HTMLElement, win: Window = window): IDisposable {
  const blink = createCursorBlink((shown) => (host.dataset.cursor = shown ? 'on' : 'off'), {
    setInterval: (cb, ms) => win.setInterval(cb, ms),
    clearInterval: (handle) => win.clearInterval(handle),
  });
  host.dataset.cursor = 'on';
  const textarea = term.textarea;
  const start = () => blink.start();
  const stop = () => blink.stop();
  const keyPressed = () => blink.keyPressed();
  textarea?.addEventListener('focus', start);
  textarea?.addEventListener('blur', stop);
  host.addEventListener('keydown', keyPressed, { capture: true, passive: true });
  const moved = term.onCursorMove(() => blink.cursorMoved());
  if (textarea && host.ownerDocument.activeElement === textarea) blink.start();
  return {
    dispose() {
      blink.stop();
      moved.dispose();
      textarea?.removeEventListener('focus', start);
      textarea?.removeEventListener('blur', stop);
      host.removeEventListener('keydown', keyPressed, { capture: true });
      delete host.dataset.cursor;
    },
  };
}

interface RendererSwitch {
  webgl(): void;
  dom(): void;
}

/**
 * Switches to the WebGL renderer when a GPU backs the browser's WebGL2 (webgl-support.ts). Loaded on demand so the
 * addon stays out of the first bundle the login screen waits for. A load failure keeps the DOM
 * renderer; a lost context (GPU reset, driver trouble) disposes the addon, which puts xterm back
 * on the DOM renderer.
 */
async function useWebglRenderer(
  term: Terminal,
  host: HTMLElement,
  gone: () => boolean,
  switched: RendererSwitch,
): Promise<void> {
  const mark = (kind: TerminalRendererKind) => {
    if (gone()) return;
    host.dataset.renderer = kind;
    switched[kind]();
  };
  try {
    if (!hasGpuWebgl2(host.ownerDocument)) return;
    const { WebglAddon } = await import('@xterm/addon-webgl');
    if (gone()) return;
    const webgl = new WebglAddon();
    webgl.onContextLoss(() => {
      webgl.dispose();
      mark('dom');
    });
    term.loadAddon(webgl);
    mark('webgl');
  } catch (e) {
    // No WebGL2 here (headless without a GPU, blocked by policy): the DOM renderer is fine.
    console.info(`gatehouse: terminal uses the DOM renderer (${(e as Error).message})`);
    mark('dom');
  }
}
