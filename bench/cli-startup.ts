// npm run bench:cli — how long the executables take to start and answer `--version`/`--help`,
// the way a user runs them (node bin/<name>.mjs, which runs the bundle in dist/cli):
//   gate --version, gatectl --help, gatehouse --version   the bundles (rebuilt first, untimed);
//   the same through tsx (GATEHOUSE_FROM_SOURCE=1)         what every start cost before bundling;
//   baselines: `ssh -V` (a native CLI) and `node -e 0`     the floor for any Node CLI here.
// Each run is one process from spawn to exit: wall time, and on Linux the CPU time the process
// used (user + system, from the parent's reaped-children counters in /proc/self/stat, in clock
// ticks of 10 ms), which shared machines disturb far less than wall time. Commands alternate run by run so load drifts hit
// all rows alike; two untimed warm-up rounds fill the OS file cache (and Node's compile cache on
// Node >= 22.1). BENCH_CLI_RUNS (default 20). Target: gate --version and gatectl --help < 100 ms.
// Not a test: it prints figures and fails only when a command does.
import { spawnSync } from 'node:child_process';
import module from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { childrenCpuMs } from './process-cpu.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 20);
const WARM_UP_ROUNDS = 2;
const TARGET_MS = 100;

interface Row {
  label: string;
  file: string;
  args: string[];
  env?: Record<string, string>;
  kind: 'baseline' | 'bundle' | 'source';
}

const bin = (name: string) => join(ROOT, 'bin', `${name}.mjs`);
const BUNDLED: Row[] = [
  { label: 'gate --version', file: process.execPath, args: [bin('gate'), '--version'], kind: 'bundle' },
  { label: 'gatectl --help', file: process.execPath, args: [bin('gatectl'), '--help'], kind: 'bundle' },
  { label: 'gatehouse --version', file: process.execPath, args: [bin('gatehouse'), '--version'], kind: 'bundle' },
];
const FROM_SOURCE: Row[] = BUNDLED.map((r) => ({
  ...r,
  label: `${r.label} (tsx source)`,
  env: { GATEHOUSE_FROM_SOURCE: '1' },
  kind: 'source',
}));
const BASELINES: Row[] = [
  { label: 'baseline: ssh -V', file: 'ssh', args: ['-V'], kind: 'baseline' },
  { label: 'baseline: node -e 0', file: process.execPath, args: ['-e', '0'], kind: 'baseline' },
];

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** One run, spawn to exit: wall and CPU ms; throws with the command's stderr when it fails. */
function timeRun(row: Row): { wall: number; cpu?: number } {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(row.file, row.args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', GATEHOUSE_FROM_SOURCE: '', ...row.env },
  });
  const elapsed = performance.now() - t0;
  if (r.error) throw new Error(`${row.label}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${row.label} exited ${r.status}:\n${r.stderr}`);
  const cpu1 = childrenCpuMs();
  return { wall: elapsed, cpu: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0 };
}

function buildBundles(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-cli.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build:cli failed:\n${r.stderr}`);
}

function report(rows: Row[], times: Map<Row, number[]>, cpuTimes: Map<Row, number[]>): void {
  const p50 = (row: Row) => pct(times.get(row)!, 50);
  const cpuP50 = (row: Row) => (cpuTimes.get(row)!.length > 0 ? pct(cpuTimes.get(row)!, 50) : undefined);
  const floorCpu = cpuP50(BASELINES[1]!);
  const [ssh, nodeFloor] = BASELINES;
  const sshP50 = times.has(ssh!) ? p50(ssh!) : undefined;
  const floorP50 = p50(nodeFloor!);
  console.log(
    `${'command'.padEnd(36)}${'p50'.padStart(10)}${'p95'.padStart(10)}${'added over node'.padStart(17)}` +
      `${'× node -e 0'.padStart(13)}${'× ssh -V'.padStart(10)}${'× tsx source'.padStart(14)}` +
      `${'CPU p50'.padStart(10)}${'CPU added'.padStart(11)}`,
  );
  for (const row of rows) {
    const v = times.get(row);
    if (!v) continue;
    const source = row.kind === 'bundle' ? FROM_SOURCE[BUNDLED.indexOf(row)] : undefined;
    const cells = [
      ms(p50(row)).padStart(10),
      ms(pct(v, 95)).padStart(10),
      (row.kind === 'baseline' ? '' : `+${ms(p50(row) - floorP50)}`).padStart(17),
      `${(p50(row) / floorP50).toFixed(2)}×`.padStart(13),
      (sshP50 ? `${(p50(row) / sshP50).toFixed(0)}×` : 'n/a').padStart(10),
      (source ? `${(p50(row) / p50(source)).toFixed(2)}×` : '').padStart(14),
      (cpuP50(row) === undefined ? 'n/a' : ms(cpuP50(row)!)).padStart(10),
      (row.kind === 'baseline' || floorCpu === undefined ? '' : `+${ms(cpuP50(row)! - floorCpu)}`).padStart(11),
    ];
    console.log(`${row.label.padEnd(36)}${cells.join('')}`);
  }
  for (const row of BUNDLED.slice(0, 2)) {
    const verdict = p50(row) < TARGET_MS ? 'meets' : 'misses';
    console.log(`${row.label}: p50 ${ms(p50(row))} ${verdict} the < ${TARGET_MS} ms target`);
  }
}

function main(): void {
  buildBundles();
  const sshAvailable = spawnSync('ssh', ['-V']).status === 0;
  const rows = [...BASELINES.filter((r) => sshAvailable || r.file !== 'ssh'), ...BUNDLED, ...FROM_SOURCE];
  const times = new Map<Row, number[]>(rows.map((r) => [r, []]));
  const cpuTimes = new Map<Row, number[]>(rows.map((r) => [r, []]));
  for (let round = 0; round < WARM_UP_ROUNDS; round++) rows.forEach(timeRun);
  for (let i = 0; i < RUNS; i++) {
    for (const row of rows) {
      const { wall, cpu } = timeRun(row);
      times.get(row)!.push(wall);
      if (cpu !== undefined) cpuTimes.get(row)!.push(cpu);
    }
  }
  const cache = 'enableCompileCache' in module ? 'on (user cache dir)' : 'unavailable (Node < 22.1)';
  console.log(`CLI start-up, ${RUNS} runs each, Node ${process.version}, compile cache ${cache}`);
  report(rows, times, cpuTimes);
}

main();
