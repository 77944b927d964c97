// bench:device's login rows (issue 16): the password login alone (baseline), the trusted login
// as the app runs it (challenge folded into the login, one call after it, the TPM session kept
// between logins), the same as `gate login` runs it (the TPM opened and the AK loaded per login,
// overlapped with the password check), the same login through the AuthenticateDevice stream
// (what every login did before issue 16, still the path right after enrollment) and the TPM
// floor: the TPM commands that need the challenge (quote + PCR read on an open TPM with the AK
// loaded), alone on the same swtpm. Interleaved run by run so drift hits every row alike; RPCs
// and TLS handshakes counted per login.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { ClusterClient, LoginParams } from '../src-main/core/cluster-client.ts';
import type { GatehouseClient } from '../src-main/core/gatehouse-client.ts';
import type { LoginOutcome } from '../src-main/core/device-trust.ts';
import type { WireTrace } from './wire-trace.ts';

const QUOTE_PCRS = [0, 1, 2, 3, 4, 5, 6, 7];

export function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
export const ms = (x: number) => `${x.toFixed(Math.abs(x) < 10 ? 1 : 0)} ms`;

/** CPU time so far (ms): this process, and others by pid from /proc (clock ticks, usually 10 ms). */
interface CpuClock {
  read(): { client: number; cluster: number; tpm: number };
}

function cpuClock(pids: { cluster?: number | undefined; tpm?: number | undefined }): CpuClock {
  const tickMs = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);
  const ofPid = (pid: number | undefined) => {
    if (!pid) return 0;
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * tickMs;
  };
  return {
    read: () => {
      const own = process.cpuUsage();
      return { client: (own.user + own.system) / 1000, cluster: ofPid(pids.cluster), tpm: ofPid(pids.tpm) };
    },
  };
}

interface Row {
  label: string;
  times: number[];
  /** CPU time summed over the row's logins (ms). */
  cpu: { client: number; cluster: number; tpm: number };
  /** From the end of the Login call's response to the end of the whole login: the device's share on the critical path. */
  afterLogin: number[];
  wire: { handshakes: number[]; rpcs: number[] };
}

function newRow(label: string): Row {
  return {
    label,
    times: [],
    afterLogin: [],
    cpu: { client: 0, cluster: 0, tpm: 0 },
    wire: { handshakes: [], rpcs: [] },
  };
}

const range = (xs: number[]) => {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? `${lo}` : `${lo}-${hi}`;
};

async function timed<T>(row: Row, trace: WireTrace, cpu: CpuClock, fn: () => Promise<T>): Promise<T> {
  const from = trace.events.length;
  const cpu0 = cpu.read();
  const t0 = performance.now();
  const r = await fn();
  const end = performance.now();
  const cpu1 = cpu.read();
  row.cpu.client += cpu1.client - cpu0.client;
  row.cpu.cluster += cpu1.cluster - cpu0.cluster;
  row.cpu.tpm += cpu1.tpm - cpu0.tpm;
  row.times.push(end - t0);
  const login = trace.events.slice(from).find((e) => e.kind === 'rpc' && e.what.endsWith('/Login'));
  if (login?.ms !== undefined) row.afterLogin.push(end - (login.at + login.ms));
  const counts = trace.countsSince(from);
  row.wire.handshakes.push(counts.handshakes);
  row.wire.rpcs.push(counts.rpcs);
  return r;
}

function requireTrusted(o: LoginOutcome, how: string): void {
  if (o.deviceTrust.state !== 'trusted')
    throw new Error(`a ${how} login was not device-trusted: ${JSON.stringify(o.deviceTrust)}`);
}

export async function benchLogins(opts: {
  /** Keeps its TPM session between logins (the app). */
  core: GatehouseClient;
  /** Opens the TPM per login (the `gate` CLI). */
  oneShot: GatehouseClient;
  api: ClusterClient;
  params: LoginParams;
  trace: WireTrace;
  runs: number;
  /** Processes whose CPU time is counted per login: the cluster daemon and swtpm. */
  pids: { cluster?: number | undefined; tpm?: number | undefined };
}): Promise<void> {
  const { core, api, params } = opts;
  const cpu = cpuClock(opts.pids);
  const trace = opts.trace;
  const plain = newRow('password login alone (baseline)');
  const folded = newRow('login + device auth (folded, TPM kept: app)');
  const oneShot = newRow('login + device auth (folded, TPM per login: gate)');
  const stream = newRow('login + device auth (stream, before)');
  const floor = newRow('TPM floor: quote + PCR read alone');
  for (let i = 0; i < opts.runs; i++) {
    await timed(plain, trace, cpu, () => api.login(params));
    requireTrusted(await timed(folded, trace, cpu, () => core.login(api, params)), 'folded');
    requireTrusted(
      await timed(stream, trace, cpu, async () => {
        // GatehouseClient.login before issue 16: login, then the stream on an mTLS connection.
        const prepared = core.device.prepare(api.proxy.address);
        const profile = await api.login(params);
        return core.device.authenticate(api, profile, prepared);
      }),
      'stream',
    );
    const tpm = await core.device.prepare(api.proxy.address)!;
    try {
      await tpm.attestationKey();
      await timed(floor, trace, cpu, async () => {
        await tpm.quote(randomBytes(32), QUOTE_PCRS);
        await tpm.readPcrs(QUOTE_PCRS);
      });
    } finally {
      await tpm.close();
    }
  }
  // `gate login` as it runs on a machine, in a loop of its own with its own baseline: the app's
  // kept session closed first. Interleaved with it on one swtpm (no resource manager) the EK
  // creation of every per-login open took several times the TPM CPU it takes alone.
  await core.close();
  const plainAgain = newRow('password login alone (baseline of the gate loop)');
  for (let i = 0; i < opts.runs; i++) {
    await timed(plainAgain, trace, cpu, () => api.login(params));
    requireTrusted(await timed(oneShot, trace, cpu, () => opts.oneShot.login(api, params)), 'one-shot');
  }
  const baseOf = (r: Row) => (r === oneShot ? plainAgain : plain);
  const line = (r: Row) =>
    `${r.label.padEnd(42)} p50 ${ms(pct(r.times, 50)).padStart(8)}  p95 ${ms(pct(r.times, 95)).padStart(8)}` +
    (r === floor ? '' : `   RPCs ${range(r.wire.rpcs)}, TLS handshakes ${range(r.wire.handshakes)} per login`);
  console.log(`logins (n=${opts.runs} each, interleaved; the gate rows in a second loop):`);
  for (const r of [plain, folded, stream, floor, plainAgain, oneShot]) console.log(`  ${line(r)}`);
  const added = (r: Row, p: number) => pct(r.times, p) - pct(baseOf(r).times, p);
  for (const r of [folded, oneShot, stream]) {
    console.log(
      `  ${r.label}: after the Login response p50 ${ms(pct(r.afterLogin, 50))}, p95 ${ms(pct(r.afterLogin, 95))}` +
        ` (TPM floor p50 ${ms(pct(floor.times, 50))}, p95 ${ms(pct(floor.times, 95))}; over it ` +
        `${ms(pct(r.afterLogin, 50) - pct(floor.times, 50))} / ${ms(pct(r.afterLogin, 95) - pct(floor.times, 95))})`,
    );
    console.log(
      `  ${r.label}: adds ${ms(added(r, 50))} at p50, ${ms(added(r, 95))} at p95 over the login alone ` +
        `(ratio ${(pct(r.times, 50) / pct(baseOf(r).times, 50)).toFixed(2)}x / ${(pct(r.times, 95) / pct(baseOf(r).times, 95)).toFixed(2)}x); ` +
        `over the TPM floor: ${ms(added(r, 50) - pct(floor.times, 50))} at p50, ${ms(added(r, 95) - pct(floor.times, 95))} at p95`,
    );
  }
  // CPU time does not wait in a run queue: on a loaded machine it says what each path costs.
  const perLogin = (r: Row) => {
    const n = r.times.length;
    return { client: r.cpu.client / n, cluster: r.cpu.cluster / n, tpm: r.cpu.tpm / n };
  };
  for (const r of [plain, folded, stream, floor, plainAgain, oneShot]) {
    const c = perLogin(r);
    const b = perLogin(baseOf(r));
    const sum = c.client + c.cluster + c.tpm;
    const added =
      r === plain || r === plainAgain || r === floor ? '' : `, added ${ms(sum - (b.client + b.cluster + b.tpm))}`;
    console.log(
      `  CPU per login, ${r.label}: client ${ms(c.client)}, cluster ${ms(c.cluster)}, swtpm ${ms(c.tpm)}; ` +
        `all ${ms(sum)}${added}`,
    );
  }
  console.log(
    `  goal: device authentication adds <= 15 ms at p95 -> app: ${ms(added(folded, 95))} (p95 - p95), ` +
      `gate: ${ms(added(oneShot, 95))}, ` +
      `${ms(pct(folded.afterLogin, 95))} after the Login response at p95`,
  );
}

/**
 * The cluster's own account of each device authentication ("device authenticated" log lines and
 * their <step>_ms fields): where the server's time after the quote arrived went, p50 / p95
 * ("sum"), and how long the pre-signing done while the client quoted took (presigned_before).
 */
export function printServerSteps(logs: string, from = 0): void {
  const steps = new Map<string, number[]>();
  const add = (step: string, value: number) => steps.set(step, [...(steps.get(step) ?? []), value]);
  for (const line of logs.slice(from).split('\n')) {
    if (!line.includes('device authenticated')) continue;
    let total = 0;
    for (const [, step, value] of line.matchAll(/ (\w+)_ms=([\d.]+)/g)) {
      if (step === 'total' || step === 'tpm') continue;
      add(step!, Number(value));
      if (step !== 'presigned_before') total += Number(value);
    }
    add('sum', total);
  }
  const n = steps.get('sum')?.length ?? 0;
  const cells = [...steps].map(([step, v]) => `${step} ${ms(pct(v, 50))} / ${ms(pct(v, 95))}`);
  console.log(`  cluster, from the quote's arrival to the answer (n=${n}, p50 / p95): ${cells.join(', ')}`);
}
