// What /healthz and /readyz report: named checks the services of a process register. Liveness
// ("is this process worth keeping") and readiness ("send it traffic": backend reachable, caches
// warm) are separate lists, as Kubernetes probes and load balancers ask them separately.

/** A probe that takes longer is a failure: a hung backend must turn readyz red, not hang it. */
export const PROBE_TIMEOUT_MS = 2_000;
/** A process registers a handful; the cap keeps a report (and a scrape) small and bounded. */
export const MAX_CHECKS = 32;

/** Resolves when healthy; throws (or rejects) with why not. */
export type Probe = (signal: AbortSignal) => Promise<void> | void;

export interface CheckResult {
  name: string;
  ok: boolean;
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'failing';
  checks: CheckResult[];
  /** The names of the failing checks, the first thing an operator reads. */
  failing: string[];
}

export class ProcessHealth {
  readonly #live = new Map<string, Probe>();
  readonly #ready = new Map<string, Probe>();
  #shuttingDown = false;

  constructor(private readonly probeTimeoutMs = PROBE_TIMEOUT_MS) {
    // A process that is shutting down is neither alive for long nor ready for new work.
    this.addLiveness('process', () => {
      if (this.#shuttingDown) throw new Error('shutting down');
    });
  }

  addLiveness(name: string, probe: Probe): void {
    this.#add(this.#live, name, probe);
  }

  addReadiness(name: string, probe: Probe): void {
    this.#add(this.#ready, name, probe);
  }

  #add(list: Map<string, Probe>, name: string, probe: Probe): void {
    if (this.#live.has(name) || this.#ready.has(name)) throw new Error(`health check "${name}" is registered twice`);
    if (this.#live.size + this.#ready.size >= MAX_CHECKS) throw new Error(`at most ${MAX_CHECKS} health checks`);
    list.set(name, probe);
  }

  shuttingDown(): void {
    this.#shuttingDown = true;
  }

  /** /healthz: the liveness checks. */
  liveness(): Promise<HealthReport> {
    return this.#run([...this.#live]);
  }

  /**
   * /readyz: liveness and readiness checks; ready only when all pass. With `only`, just the
   * readiness checks it selects (auth's heartbeat reports auth's own, not its process neighbours').
   */
  readiness(only?: (name: string) => boolean): Promise<HealthReport> {
    if (only) return this.#run([...this.#ready].filter(([name]) => only(name)));
    return this.#run([...this.#live, ...this.#ready]);
  }

  async #run(checks: [string, Probe][]): Promise<HealthReport> {
    const results = await Promise.all(checks.map(([name, probe]) => this.#probe(name, probe)));
    const failing = results.filter((r) => !r.ok).map((r) => r.name);
    return { status: failing.length === 0 ? 'ok' : 'failing', checks: results, failing };
  }

  async #probe(name: string, probe: Probe): Promise<CheckResult> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new Error(`timed out after ${this.probeTimeoutMs} ms`));
      }, this.probeTimeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(() => probe(abort.signal)), timedOut]);
      return { name, ok: true };
    } catch (e) {
      return { name, ok: false, error: e instanceof Error ? e.message : String(e) };
    } finally {
      clearTimeout(timer);
    }
  }
}
