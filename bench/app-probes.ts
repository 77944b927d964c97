// Pieces of `npm run bench:app` (bench/app.ts): the scripts it injects into the page to time
// things where they happen (so Playwright's round trips stay out of the figures), the stock
// terminal side of the baselines (ssh / gate in a node-pty), and process helpers.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pty from 'node-pty';

export const ROOT = new URL('../', import.meta.url).pathname;

/** Bash prompt both sides set, written so that its own echo does not contain it. */
export const PROMPT = 'READY> ';
export const SET_PROMPT = `PS1='READ''Y> '`;

/**
 * Waits (in the page) until an `<input>` labelled "User name" is rendered, visible and enabled;
 * resolves with performance.now() of that moment. A MutationObserver reacts to the DOM change
 * itself, not to a polling interval. Playwright checks the accessible name afterwards.
 */
export const WAIT_FOR_USER_NAME_FIELD = `() => new Promise((resolve) => {
  const ready = () => {
    for (const input of document.querySelectorAll('input')) {
      const label = input.labels && input.labels[0];
      if (label && label.textContent.trim() === 'User name' && !input.disabled && input.getClientRects().length > 0)
        return true;
    }
    return false;
  };
  if (ready()) return resolve(performance.now());
  const mo = new MutationObserver(() => {
    if (ready()) { mo.disconnect(); resolve(performance.now()); }
  });
  mo.observe(document, { subtree: true, childList: true, attributes: true });
})`;

/**
 * Init script of the terminal page. Wraps WebSocket to timestamp the bridge's frames and adds
 * window.__bench:
 *   arm(kind, text, echo) — the next keydown starts a measurement that ends when xterm's DOM
 *     rows show `text` (kind 'endsWith': the last non-empty row ends with it; 'includes': any
 *     row has it). Records when the term-input frame left and when a term-data frame holding
 *     `echo` arrived.
 *   wait(timeoutMs) — resolves with {sent, recv, frame, shown, wsChars, wsLast} in ms after the
 *     keydown; `frame` is the first animation frame after the echo arrived (xterm renders in one).
 * Frames are only parsed while a keystroke is armed and small, so counting a flood costs little.
 */
export const TERMINAL_PROBE = `(() => {
  const st = { armed: null, last: null };
  const Native = window.WebSocket;
  class Timed extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      // Terminal output: binary frames (src-shared/terminal-frame.ts), kind 1, 5-byte header.
      this.addEventListener('message', (ev) => {
        const a = st.armed;
        if (!a || !a.t0 || !(ev.data instanceof ArrayBuffer)) return;
        const t = performance.now();
        a.wsChars += ev.data.byteLength - 5;
        a.wsLast = t;
        if (a.echo && !a.recv && ev.data.byteLength < 4096) {
          const bytes = new Uint8Array(ev.data);
          if (bytes[0] === 1 && new TextDecoder().decode(bytes.subarray(5)).includes(a.echo)) {
            a.recv = t;
            requestAnimationFrame(() => (a.frame = performance.now()));
          }
        }
      });
    }
    send(data) {
      const a = st.armed;
      // Terminal input: a binary frame of kind 2.
      if (a && a.t0 && !a.sent && data instanceof Uint8Array && data[0] === 2) a.sent = performance.now();
      return super.send(data);
    }
  }
  window.WebSocket = Timed;
  window.addEventListener('keydown', () => {
    const a = st.armed;
    if (a && !a.t0) a.t0 = performance.now();
  }, true);
  const lastLine = (rows) => {
    for (let i = rows.children.length - 1; i >= 0; i--) {
      const line = rows.children[i].textContent.replace(/\\u00a0/g, ' ').trimEnd();
      if (line) return line;
    }
    return '';
  };
  window.__bench = {
    arm(kind, text, echo) {
      const rows = document.querySelector('.xterm-rows');
      if (!rows) throw new Error('no .xterm-rows in the page: xterm is not rendering with its DOM renderer (data-renderer=' + document.querySelector('[data-renderer]')?.dataset.renderer + ')');
      const a = { t0: 0, sent: 0, recv: 0, frame: 0, wsChars: 0, wsLast: 0, echo };
      const shown = () => kind === 'endsWith' ? lastLine(rows).endsWith(text) : rows.textContent.includes(text);
      a.done = new Promise((resolve) => {
        const mo = new MutationObserver(() => {
          if (!a.t0 || !shown()) return;
          const t = performance.now();
          mo.disconnect();
          st.armed = null;
          const rel = (x) => (x ? x - a.t0 : NaN);
          resolve({ sent: rel(a.sent), recv: rel(a.recv), frame: rel(a.frame), shown: t - a.t0, wsChars: a.wsChars, wsLast: rel(a.wsLast) });
        });
        mo.observe(rows, { subtree: true, childList: true, characterData: true });
      });
      st.armed = a;
      st.last = a;
    },
    wait(timeoutMs) {
      const a = st.last;
      if (!a) throw new Error('nothing armed');
      return Promise.race([a.done, new Promise((r) => setTimeout(() => r({ timedOut: true, t0: a.t0, wsChars: a.wsChars }), timeoutMs))]);
    },
  };
})()`;

/**
 * The wait for an animation frame on its own: after a random 0–17 ms pause, rAF is requested and
 * the delay to its callback recorded, `n` times. xterm renders in such a callback.
 */
export const FRAME_WAITS = (n: number) => `(async () => {
  const out = [];
  for (let i = 0; i < ${n}; i++) {
    await new Promise((r) => setTimeout(r, Math.random() * 17));
    const t = performance.now();
    await new Promise((r) => requestAnimationFrame(r));
    out.push(performance.now() - t);
  }
  return out;
})()`;

/** A shell in a local pty: `ssh -tt` or `gate ssh` to a remote bash, as a person would run it. */
export class PtyShell {
  private readonly term: pty.IPty;
  private tail = '';
  private waiter?: { test: (tail: string, chunk: string) => boolean; resolve: () => void };
  private exited?: number;
  private output = '';

  constructor(file: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
    this.term = pty.spawn(file, args, {
      name: 'xterm-256color',
      cols: 160,
      rows: 40,
      env: env as Record<string, string>,
    });
    this.term.onData((chunk) => {
      this.tail = (this.tail + chunk).slice(-256);
      if (this.output.length < 4096) this.output += chunk;
      const w = this.waiter;
      if (w && w.test(this.tail, chunk)) {
        this.waiter = undefined;
        w.resolve();
      }
    });
    this.term.onExit(({ exitCode }) => (this.exited = exitCode));
  }

  /** Writes `input` and resolves with the ms until the output satisfies `test`. */
  async writeAndWait(
    input: string,
    test: (tail: string, chunk: string) => boolean,
    timeoutMs = 30_000,
  ): Promise<number> {
    if (this.exited !== undefined) throw new Error(`the shell exited (${this.exited}): ${this.output}`);
    this.tail = '';
    let timer: NodeJS.Timeout | undefined;
    const seen = new Promise<void>((resolve, reject) => {
      this.waiter = { test, resolve };
      timer = setTimeout(
        () => reject(new Error(`no expected output within ${timeoutMs} ms; first output:\n${this.output}`)),
        timeoutMs,
      );
    });
    const t0 = performance.now();
    this.term.write(input);
    try {
      await seen;
    } finally {
      clearTimeout(timer);
    }
    return performance.now() - t0;
  }

  /** Sets the known prompt and waits for it: the shell is ready for keystrokes. */
  async ready(): Promise<void> {
    await this.writeAndWait(`${SET_PROMPT}\r`, (tail) => tail.includes(PROMPT), 30_000);
  }

  close(): void {
    if (this.exited === undefined) this.term.kill();
  }
}

/** Starts a server process and waits for the line it prints with its URL. Also reports other lines' times. */
export function spawnAndWaitForUrl(
  args: string[],
  urlRe: RegExp,
  marks: Record<string, RegExp> = {},
): Promise<{ child: ChildProcess; url: string; at: Record<string, number>; log: () => string }> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const at: Record<string, number> = {};
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 30 s:\n${log}`)), 30_000);
    let found = false;
    const onData = (d: Buffer) => {
      const now = performance.now();
      log += d.toString();
      if (found) return;
      for (const [name, re] of Object.entries(marks))
        if (at[name] === undefined && re.test(log)) at[name] = now - started;
      const m = urlRe.exec(log);
      if (m) {
        found = true;
        clearTimeout(timer);
        resolve({ child, url: m[1]!, at, log: () => log });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited ${code} before printing its URL:\n${log}`));
    });
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The same stand-in for "a web page with a User name field" the launch baseline serves. */
export const BASELINE_SERVER = `
const html = '<!doctype html><meta charset="utf-8"><title>baseline</title><label for="u">User name</label><input id="u">';
const s = require('node:http').createServer((q, r) => { r.writeHead(200, { 'content-type': 'text/html' }); r.end(html); });
s.listen(0, '127.0.0.1', () => console.log('Baseline page: http://127.0.0.1:' + s.address().port + '/'));
process.on('SIGTERM', () => process.exit(0));
`;

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((n) => newestMtime(join(path, n))));
}

/** The host serves dist/renderer: (re)build it when it is missing or older than its sources. */
export function ensureRendererBuilt(): void {
  const index = join(ROOT, 'dist/renderer/index.html');
  const sources = Math.max(newestMtime(join(ROOT, 'src-renderer')), newestMtime(join(ROOT, 'vite.config.ts')));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  console.log('Building the renderer (dist/renderer is missing or older than src-renderer)…');
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0 || !existsSync(index)) throw new Error('building the renderer failed (see above)');
}

/**
 * The host the app runs on (`npm start`): the esbuild bundle dist/cli/app-host.mjs, rebuilt by
 * scripts/build-cli.mjs every run (about a second) so it never measures stale sources.
 */
export function buildHostBundle(): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-cli.mjs')], { cwd: ROOT, stdio: 'inherit' });
  const bundle = join(ROOT, 'dist/cli/app-host.mjs');
  if (r.status !== 0 || !existsSync(bundle)) throw new Error('building dist/cli failed (see above)');
  return bundle;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

/** CPU seconds so far of this process's descendants, summed per group named by `classify(cmdline)`. */
export function cpuByGroup(classify: (cmdline: string) => string | undefined): Map<string, number> {
  const procs = new Map<number, { ppid: number; cpu: number; cmd: string }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name, which may hold spaces and parentheses.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      procs.set(Number(name), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / 100, cmd });
    } catch {
      // exited while we looked
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = procs.get(pid)?.ppid; p; p = procs.get(p)?.ppid) if (p === process.pid) return true;
    return false;
  };
  const groups = new Map<string, number>();
  for (const [pid, p] of procs) {
    const group = mine(pid) ? classify(p.cmd) : undefined;
    if (group) groups.set(group, (groups.get(group) ?? 0) + p.cpu);
  }
  return groups;
}

/** Where the CPU went between two cpuByGroup() snapshots, busiest first: "renderer 9.8 s, host 2.1 s". */
export function cpuSpent(before: Map<string, number>, after: Map<string, number>): string {
  return [...after]
    .map(([g, cpu]) => [g, cpu - (before.get(g) ?? 0)] as const)
    .filter(([, cpu]) => cpu >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([g, cpu]) => `${g} ${cpu.toFixed(1)} s`)
    .join(', ');
}
