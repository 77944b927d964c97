// The bounded load ha-topology.test.ts keeps running through its faults: a fixed number of
// password logins, a few at a time, each through a proxy and — when that one fails — the other,
// as a client given both proxies does; and live `gate ssh` sessions that print a tick every
// second. Every login the cluster acknowledged is counted, so the test can demand each one's
// audit event afterwards. Not a test file: the test drives it.
import { spawn, type ChildProcess } from 'node:child_process';
import type { HaCluster } from '../../test-support/ha-cluster.ts';

export type HaProxy = 'proxy1' | 'proxy2';

export async function until(what: string, timeoutMs: number, check: () => boolean, detail = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LoginLoadOptions {
  total: number;
  concurrency: number;
  /** One login through `proxy`; rejects when the cluster did not acknowledge it. */
  login: (proxy: HaProxy) => Promise<void>;
  /** A login not acknowledged by either proxy for this long fails the load. */
  giveUpMs: number;
}

/** `total` logins, `concurrency` at a time, alternating the first proxy tried. */
export class LoginLoad {
  acknowledged = 0;
  attempts = 0;
  /** Attempts refused or failed (during a fault), by the proxy they went to. */
  readonly failures: string[] = [];
  readonly done: Promise<void>;
  #next = 0;

  constructor(private readonly o: LoginLoadOptions) {
    this.done = Promise.all(Array.from({ length: o.concurrency }, () => this.#worker())).then(() => undefined);
    // Awaited by the test at its end; until then a failure must not count as unhandled.
    this.done.catch(() => undefined);
  }

  /** Resolves once `n` logins were acknowledged (the test's cue for its next fault). */
  async acknowledgedAtLeast(n: number, timeoutMs: number): Promise<void> {
    await until(
      `${n} acknowledged logins`,
      timeoutMs,
      () => this.acknowledged >= n,
      () => this.failures.join('\n'),
    );
  }

  async #worker(): Promise<void> {
    while (this.#next < this.o.total) {
      const i = this.#next++;
      await this.#one(i % 2 ? 'proxy1' : 'proxy2');
    }
  }

  async #one(first: HaProxy): Promise<void> {
    const started = Date.now();
    let proxy = first;
    for (;;) {
      this.attempts++;
      try {
        await this.o.login(proxy);
        this.acknowledged++;
        return;
      } catch (e) {
        this.failures.push(`${proxy}: ${(e as Error).message.split('\n')[0]}`);
        if (Date.now() - started > this.o.giveUpMs)
          throw new Error(`a login was not acknowledged within ${this.o.giveUpMs} ms: ${(e as Error).message}`);
        proxy = proxy === 'proxy1' ? 'proxy2' : 'proxy1';
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

export interface LiveSession {
  child: ChildProcess;
  ticks: () => number;
  output: () => string;
}

/** A `gate ssh` that prints a tick every second for an hour (one fork a second on the node). */
export function liveSession(cluster: HaCluster, home: string, target: string): LiveSession {
  const script = 'i=0; while [ $i -lt 3600 ]; do i=$((i+1)); echo tick $i; sleep 1; done';
  const child = spawn(process.execPath, cluster.gateArgv(['ssh', target, script]), {
    env: cluster.gateEnv(home),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, ticks: () => (out.match(/^tick \d+$/gm) ?? []).length, output: () => out.slice(-2000) };
}

/** Waits until `s` printed two more ticks; throws if it ended or stalled. */
export async function stillTicking(s: LiveSession, what: string, timeoutMs = 30_000): Promise<void> {
  const before = s.ticks();
  await until(`${what}: the session still printing`, timeoutMs, () => s.ticks() >= before + 2, s.output);
  if (s.child.exitCode !== null || s.child.signalCode !== null) throw new Error(`${what}: the session ended`);
}

/** gatectl through auth `via`, spawned (not spawnSync: the load and the sessions keep running). */
export function gatectlAsync(
  cluster: HaCluster,
  args: string[],
  via: 'authA' | 'authB',
  input = '',
): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, cluster.gatectlArgv(args, via), {
      env: cluster.gatectlEnv(via),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin!.end(input);
    child.once('exit', (code) => resolve({ status: code ?? -1, out }));
  });
}
