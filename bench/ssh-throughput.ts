// npm run bench:ssh — how fast Gatehouse moves SSH data and logs people in, against a direct
// baseline measured in the same run on the same machine:
//   throughput: 256 MiB from the node to `gate ssh` (gate → TLS proxy → node, all Node.js)
//               vs the stock `ssh` client → stock `sshd` (both C, loopback, same user cert)
//   login:      p50/p95 of 50 logins (fresh key, scrypt check, two certs) vs a ping round trip
// Prints a ratio for each. Not a test: it asserts nothing, it measures.
// Throughput also prints the cipher both paths agreed (stock ssh is given gate's), each run's
// ratio (min/median: "every run" is visible) and the CPU both ends spend (bench/ssh-cpu.ts).
// BENCH_NODE_ARGS: node flags for the daemon(s) and gate, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
// BENCH_TOPOLOGY=single (default) | split (auth, proxy and node as three joined processes) | both
// (runs each and compares gate's stream rate and login latency across the two) | interleaved
// (both clusters up at once, gate ssh runs alternating between them: on a machine whose load
// drifts, the fair comparison of the two topologies).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { performance } from 'node:perf_hooks';
import { TestCluster } from '../src-cluster/integration/harness.ts';
import type { Topology } from '../test-support/cluster-process.ts';
import { startSshd } from '../scripts/integration/openssh-harness.ts';
import { tempDir } from '../test-support/sshcert-testkit.ts';
import { GatehouseClient, ProfileStore } from '../src-main/core/index.ts';
import { cpuBetween, cpuSnapshot } from './ssh-cpu.ts';

const BYTES = Number(process.env.BENCH_BYTES ?? 256 * 1024 * 1024);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LOGINS = Number(process.env.BENCH_LOGINS ?? 50);
const LOGIN = userInfo().username;
const PASSWORD = 'bench-password-1';
/** Extra node flags for the cluster daemons and `gate`, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p" to profile. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

interface StreamRun {
  /** MiB/s from the first byte to the last: the data path itself. */
  streamRate: number;
  /** MiB/s over the whole command, connection setup included: what a user waits for. */
  endToEndRate: number;
  /** Seconds from start to the first byte: process start, TLS, SSH handshake, auth. */
  setupSeconds: number;
}

/** Runs a command and counts the bytes it writes to stdout. */
function measureStream(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<StreamRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let first = 0;
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (bytes === 0) first = performance.now();
      bytes += d.length;
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => {
      const end = performance.now();
      const mib = BYTES / 1048576;
      if (code !== 0 || bytes !== BYTES)
        reject(new Error(`${cmd} exited ${code} after ${bytes}/${BYTES} bytes: ${stderr}`));
      else
        resolve({
          streamRate: mib / ((end - first) / 1000),
          endToEndRate: mib / ((end - start) / 1000),
          setupSeconds: (first - start) / 1000,
        });
    });
  });
}

/** The sshd listener (its session processes are reaped into it) and the gatehouse daemon(s). */
const SSHD_COMMAND = /\bsshd\b/;
// The bundle (bin/gatehouse.mjs) or the sources (test-support/cli-source.ts runs them through tsx).
const DAEMON_COMMAND = /gatehouse\.(mjs|ts) start/;
/** How long a server gets to reap the session it just ended (sshd's session process, `head`). */
const REAP_WAIT_MS = 300;

interface MeasuredRun extends StreamRun {
  /** CPU seconds of the client command (ssh or gate, process start included). */
  clientCpu: number;
  /** CPU seconds of the server side (sshd, or the gatehouse daemon(s)), `head` included. */
  serverCpu: number;
}

async function measureWithCpu(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  serverCommand: RegExp,
): Promise<MeasuredRun> {
  const before = cpuSnapshot(serverCommand);
  const run = await measureStream(cmd, args, env);
  await new Promise((resolve) => setTimeout(resolve, REAP_WAIT_MS));
  const cpu = cpuBetween(before, cpuSnapshot(serverCommand));
  return { ...run, clientCpu: cpu.client, serverCpu: cpu.server };
}

/** The server → client cipher the node agreed with `gate ssh`, from the node's login log line. */
async function gateCipher(cluster: TestCluster, gateSshArgs: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const from = cluster.logs.length;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [...gateSshArgs, 'true'], { stdio: 'ignore', env });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gate ssh true exited ${code}`))));
  });
  const m = await cluster.waitForLog(/ssh authentication accepted.*?\bcipher="?([^"\s]+)/, 10_000, from);
  return m[1]!;
}

/** The server → client cipher stock ssh agrees with sshd for `sshArgs` (from ssh -v). */
async function sshCipher(sshArgs: string[]): Promise<string> {
  const args = [...sshArgs.slice(0, -1), 'true'].map((a) => (a === 'LogLevel=ERROR' ? 'LogLevel=DEBUG1' : a));
  const stderr = await new Promise<string>((resolve) => {
    let text = '';
    const child = spawn('ssh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.once('exit', () => resolve(text));
  });
  const m = /kex: server->client cipher: (\S+)/.exec(stderr);
  if (!m) throw new Error(`ssh -v printed no cipher: ${stderr.slice(-500)}`);
  return m[1]!;
}

/** Medians of both paths, then each run's ratio (min and median) and the CPU each path costs. */
function printStreamRows(ssh: MeasuredRun[], gate: MeasuredRun[]): void {
  const row = (name: string, runs: MeasuredRun[]) =>
    console.log(
      `  ${name.padEnd(28)} stream ${median(runs.map((r) => r.streamRate))
        .toFixed(1)
        .padStart(6)} MiB/s` +
        `   end-to-end ${median(runs.map((r) => r.endToEndRate))
          .toFixed(1)
          .padStart(6)} MiB/s` +
        `   setup ${(median(runs.map((r) => r.setupSeconds)) * 1000).toFixed(0).padStart(4)} ms` +
        `   CPU client ${median(runs.map((r) => r.clientCpu)).toFixed(2)} s + server ${median(
          runs.map((r) => r.serverCpu),
        ).toFixed(2)} s`,
    );
  row('stock ssh → stock sshd:', ssh);
  row('gate ssh → proxy → node:', gate);
  // Each gate run against the ssh run just before it: the machine's load drifts less within a pair.
  const pairRatios = gate.map((g, i) => g.streamRate / ssh[i]!.streamRate);
  // CPU scaled to 256 MiB, so figures from runs with another BENCH_BYTES compare.
  const per256 = (cpu: number) => ((cpu * 256 * 1048576) / BYTES).toFixed(2);
  gate.forEach((g, i) => {
    const s = ssh[i]!;
    console.log(
      `  run ${i + 1}: ssh ${s.streamRate.toFixed(1)} MiB/s (CPU per 256 MiB: ssh ${per256(s.clientCpu)} s, sshd ${per256(s.serverCpu)} s)` +
        `  gate ${g.streamRate.toFixed(1)} MiB/s (gate ${per256(g.clientCpu)} s, daemon ${per256(g.serverCpu)} s)` +
        `  ratio ${pairRatios[i]!.toFixed(2)}x`,
    );
  });
  const ratio = (pick: (r: StreamRun) => number) => (median(gate.map(pick)) / median(ssh.map(pick))).toFixed(2);
  console.log(
    `  ratio gate/ssh: stream ${ratio((r) => r.streamRate)}x (goal ≥ 0.90x), end-to-end ${ratio((r) => r.endToEndRate)}x`,
  );
  console.log(
    `  stream ratio per run: ${pairRatios.map((r) => r.toFixed(2)).join(' ')}` +
      `  (min ${Math.min(...pairRatios).toFixed(2)}x, median ${median(pairRatios).toFixed(2)}x)`,
  );
  const cpu = (runs: MeasuredRun[]) => median(runs.map((r) => r.clientCpu + r.serverCpu));
  console.log(
    `  CPU per transfer (both ends, gate's process start included): ssh ${cpu(ssh).toFixed(2)} s, gate ${cpu(gate).toFixed(2)} s` +
      ` (${(cpu(gate) / cpu(ssh)).toFixed(2)}x)`,
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

interface TopologyFigures {
  gateStream: number;
  sshStream: number;
  loginP50: number;
  loginP95: number;
}

/** gate ssh against a single-process and a split cluster in alternation; medians of each. */
async function interleaved(): Promise<void> {
  const clusters = (['single', 'split'] as const).map((t) => new TestCluster({ nodeName: 'bench', topology: t }));
  try {
    const argsFor: { args: string[]; env: NodeJS.ProcessEnv }[] = [];
    // One after the other: two cluster start-ups at once overrun the start timeout on a loaded machine.
    for (const cluster of clusters) {
      await cluster.start();
      const login = cluster.addUserAndLogin('bench', PASSWORD, 'access', LOGIN);
      if (login.status !== 0) throw new Error(`gate login failed: ${login.stderr}`);
      const args = [
        join(import.meta.dirname, '..', 'bin', 'gate.mjs'),
        'ssh',
        `${LOGIN}@bench`,
        `head -c ${BYTES} /dev/zero`,
      ];
      argsFor.push({ args, env: { ...process.env, GATEHOUSE_HOME: cluster.home } });
    }
    const rates: [number[], number[]] = [[], []];
    console.log(`gate ssh, ${BYTES / 1048576} MiB, ${RUNS} runs per topology, alternating`);
    for (let i = 0; i < RUNS; i++) {
      for (const k of [0, 1] as const) {
        const run = await measureStream(process.execPath, argsFor[k]!.args, argsFor[k]!.env);
        rates[k].push(run.streamRate);
      }
    }
    const [single, split] = rates.map(median) as [number, number];
    console.log(
      `  single process:  stream ${single.toFixed(1)} MiB/s (runs: ${rates[0].map((r) => r.toFixed(0)).join(' ')})`,
    );
    console.log(
      `  split (3 procs): stream ${split.toFixed(1)} MiB/s (runs: ${rates[1].map((r) => r.toFixed(0)).join(' ')})`,
    );
    console.log(`  split vs single: ${(((split - single) / single) * 100).toFixed(1)} % (goal: within 5 %)`);
  } finally {
    for (const c of clusters) await c.destroy();
  }
}

function topologies(): Topology[] {
  const wanted = process.env.BENCH_TOPOLOGY ?? 'single';
  if (wanted === 'both') return ['single', 'split'];
  if (wanted === 'single' || wanted === 'split') return [wanted];
  throw new Error(`BENCH_TOPOLOGY must be single, split, both or interleaved, not "${wanted}"`);
}

async function main() {
  if (process.env.BENCH_TOPOLOGY === 'interleaved') return interleaved();
  const results = new Map<Topology, TopologyFigures>();
  for (const topology of topologies()) {
    console.log(`\n=== topology: ${topology} ===`);
    results.set(topology, await benchTopology(topology));
  }
  const single = results.get('single');
  const split = results.get('split');
  if (single && split) {
    // The stock ssh baseline of each run says how much of a difference is the machine's mood.
    const change = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)} %`;
    console.log('\nsplit (3 processes) vs single process:');
    console.log(`  gate stream rate:  ${change(single.gateStream, split.gateStream)} (goal: within 5 %)`);
    console.log(`  stock ssh (noise): ${change(single.sshStream, split.sshStream)}`);
    // The machine's speed drifts between the two phases; against each phase's own stock ssh it does not.
    console.log(
      `  gate/ssh ratio:    ${(single.gateStream / single.sshStream).toFixed(2)}x → ${(split.gateStream / split.sshStream).toFixed(2)}x` +
        ` (${change(single.gateStream / single.sshStream, split.gateStream / split.sshStream)})`,
    );
    console.log(
      `  login p50:         ${change(single.loginP50, split.loginP50)}   p95: ${change(single.loginP95, split.loginP95)}`,
    );
  }
}

async function benchTopology(topology: Topology): Promise<TopologyFigures> {
  const cluster = new TestCluster({ nodeName: 'bench', topology, nodeArgs: NODE_ARGS });
  const tmp = tempDir('gatehouse-bench-');
  let sshd: Awaited<ReturnType<typeof startSshd>> | undefined;
  try {
    await cluster.start();
    const login = cluster.addUserAndLogin('bench', PASSWORD, 'access', LOGIN);
    if (login.status !== 0) throw new Error(`gate login failed: ${login.stderr}`);
    const userCa = cluster.gatectl(['auth', 'export', '--type=user']);
    if (userCa.status !== 0) throw new Error(userCa.stderr);
    sshd = await startSshd(tmp, userCa.stdout.trim());

    const gateHome = cluster.home;
    // The same key and certificate `gate login` stored serve the stock ssh baseline.
    const { key, sshCert: cert } = new ProfileStore(gateHome).paths(cluster.proxyAddr, 'bench');
    const remote = `head -c ${BYTES} /dev/zero`;
    const gateArgs = [
      ...NODE_ARGS,
      join(import.meta.dirname, '..', 'bin', 'gate.mjs'),
      'ssh',
      `${LOGIN}@bench`,
      remote,
    ];
    const sshArgs = [
      '-p',
      String(sshd.port),
      '-i',
      key,
      '-o',
      `CertificateFile=${cert}`,
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'BatchMode=yes',
      '-o',
      'LogLevel=ERROR',
      `${LOGIN}@127.0.0.1`,
      remote,
    ];
    const env = { ...process.env, GATEHOUSE_HOME: gateHome };

    // One short gate ssh first: the node logs the cipher it agreed with gate (ssh2), and stock ssh
    // is told to use the same one, or the ratio would compare ciphers rather than paths.
    const cipher = await gateCipher(cluster, gateArgs.slice(0, -1), env);
    sshArgs.unshift('-c', cipher);
    console.log(`cipher: gate ssh → node ${cipher}; stock ssh → sshd ${await sshCipher(sshArgs)}`);
    console.log(`SSH throughput: ${BYTES / 1048576} MiB node → client, ${RUNS} runs each, alternating (medians)`);
    const gate: MeasuredRun[] = [];
    const ssh: MeasuredRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      ssh.push(await measureWithCpu('ssh', sshArgs, process.env, SSHD_COMMAND));
      gate.push(await measureWithCpu(process.execPath, gateArgs, env, DAEMON_COMMAND));
    }
    printStreamRows(ssh, gate);
    const client = new GatehouseClient({ home: tmp.file('client-home'), deviceHome: tmp.file('client-device') });
    const cc = await client.cluster(cluster.proxyAddr);
    await cc.establishTrust({ caPin: cluster.caPin });
    await cc.login({ user: 'bench', password: PASSWORD }); // warm up the connection and JIT
    const pings: number[] = [];
    const logins: number[] = [];
    for (let i = 0; i < LOGINS; i++) {
      let t = performance.now();
      await cc.ping();
      pings.push(performance.now() - t);
      t = performance.now();
      await cc.login({ user: 'bench', password: PASSWORD });
      logins.push(performance.now() - t);
    }
    cc.close();
    console.log(
      `\nLogin latency over ${LOGINS} logins (same connection; includes key generation, scrypt, SSH + X.509 issuance):`,
    );
    console.log(
      `  ping round trip (baseline):   p50 ${median(pings).toFixed(1)} ms  p95 ${pct(pings, 95).toFixed(1)} ms`,
    );
    console.log(
      `  login:                        p50 ${median(logins).toFixed(1)} ms  p95 ${pct(logins, 95).toFixed(1)} ms`,
    );
    console.log(`  ratio login/ping (p50):       ${(median(logins) / median(pings)).toFixed(1)}x`);
    return {
      gateStream: median(gate.map((r) => r.streamRate)),
      sshStream: median(ssh.map((r) => r.streamRate)),
      loginP50: median(logins),
      loginP95: pct(logins, 95),
    };
  } finally {
    sshd?.stop();
    await cluster.destroy();
    tmp.cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${(e as Error).message}`);
  process.exit(1);
});
