// npm run bench:app-access — what the application path costs, against the same nginx reached
// directly, in the same run on the same machine (issue 14 "Speed"):
//   requests: autocannon (programmatic), keep-alive, 32 connections, N s, nginx's static page,
//             through `gate proxy app` vs direct: req/s ratio (goal ≥ 0.7x) and p99 latency added
//             (goal < 2 ms)
//   (each also through the same nginx registered as a TCP app — a byte relay in the app service —
//   to tell the HTTP reverse proxy's cost from the TLS legs')
//   download: a 256 MiB file (sparse on disk: nginx sends it with sendfile) with curl, through vs
//             direct: MiB/s ratio (goal ≥ 0.8x)
// The path measured: plain HTTP to `gate proxy app` (its own process) → TLS with the route
// certificate to the proxy → mutual TLS to the app service (both in the daemon's one process) →
// plain HTTP to nginx. Not a test: it asserts nothing, it measures. When the cluster cannot serve
// apps, the direct half still runs and the reason is printed.
//   latency:  autocannon reports whole milliseconds, too coarse for "< 2 ms added"; so one
//             kept-alive connection also sends N requests one after another (no load), timed
//             with hrtime: p50 / p99 added by the path
// Env: BENCH_APP_SECONDS (20), BENCH_APP_MIB (256), BENCH_APP_CONNECTIONS (32), BENCH_APP_RUNS (1),
// BENCH_APP_PROBES (2000).
import { spawn } from 'node:child_process';
import { Agent, get } from 'node:http';
import autocannon, { type Result } from 'autocannon';
import { startNginx, type NginxServer } from '../test-support/apps/nginx.ts';
import { TestCluster } from '../src-cluster/integration/harness.ts';
import {
  appResourceYaml,
  appRoleYaml,
  appServiceConfig,
  startAppGateway,
  type AppGateway,
} from '../src-cluster/app/integration/app-fixture.ts';
import { join } from 'node:path';

const SECONDS = Number(process.env.BENCH_APP_SECONDS ?? 20);
const MIB = Number(process.env.BENCH_APP_MIB ?? 256);
const CONNECTIONS = Number(process.env.BENCH_APP_CONNECTIONS ?? 32);
const RUNS = Number(process.env.BENCH_APP_RUNS ?? 1);
const PROBES = Number(process.env.BENCH_APP_PROBES ?? 2000);
const WARMUP_SECONDS = 2;
const APP = 'bench-web';
const TCP_APP = 'bench-web-tcp';
const PASSWORD = 'bench-password-1';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const fixed = (x: number, d = 0) => x.toFixed(d).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');

interface GatewaySide {
  cluster: TestCluster;
  gateway: AppGateway;
  /** The same nginx as a TCP app (a byte relay in the app service): what the HTTP proxying itself costs. */
  tcpGateway: AppGateway;
}

/** A cluster with an app service, nginx registered as an app, a user allowed it, `gate proxy app` running. */
async function startGatewaySide(nginx: NginxServer): Promise<GatewaySide> {
  // The static app of the fixture's config points at nothing here; the bench uses its own app.
  const cluster = new TestCluster({
    clusterName: 'benchapp',
    nodeName: 'bench',
    extraConfig: await appServiceConfig('http://127.0.0.1:9'),
  });
  try {
    await cluster.start();
    cluster.apply(appResourceYaml({ name: APP, uri: nginx.url, labels: { env: 'bench' } }));
    cluster.apply(appResourceYaml({ name: TCP_APP, uri: `tcp://127.0.0.1:${nginx.port}`, labels: { env: 'bench' } }));
    cluster.apply(appRoleYaml('bench-apps', { '*': '*' }));
    const add = cluster.gatectl(['users', 'add', 'bench', '--roles=bench-apps', '--password-stdin'], `${PASSWORD}\n`);
    if (add.status !== 0) throw new Error(`gatectl users add: ${add.stderr}`);
    const home = (who: string) => join(cluster.dir, `home-${who}`);
    const login = cluster.gate(
      ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', 'bench', '--password-stdin'],
      `${PASSWORD}\n`,
      { GATEHOUSE_HOME: home('bench') },
    );
    if (login.status !== 0) throw new Error(`gate login: ${login.stderr}`);
    const gateway = await startAppGateway({ cluster, home }, 'bench', APP);
    const tcpGateway = await startAppGateway({ cluster, home }, 'bench', TCP_APP);
    return { cluster, gateway, tcpGateway };
  } catch (e) {
    await cluster.destroy();
    throw e;
  }
}

async function load(url: string, seconds: number): Promise<Result> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, timeout: 10 });
  if (r.errors + r.timeouts + r.non2xx > 0) {
    console.log(`  (${url}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx responses)`);
  }
  return r;
}

/** curl downloads `url` to /dev/null; MiB/s from the bytes it received and its total time. */
function download(url: string, expectBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '--fail', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', url]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      const [bytes, seconds] = out.trim().split(' ').map(Number);
      if (code !== 0 || bytes !== expectBytes || !seconds) reject(new Error(`curl ${url} exited ${code}: ${out}`));
      else resolve(bytes / (1 << 20) / seconds);
    });
  });
}

/** Sequential GETs over one kept-alive connection; each request's time in ms (µs resolution). */
async function sequentialLatencies(url: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      get(url, { agent }, (res) => {
        res.resume();
        res.once('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${url}: HTTP ${res.statusCode}`));
          else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
        });
      }).once('error', reject);
    });
  try {
    for (let i = 0; i < 50; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < count; i++) times.push(await once());
    return times;
  } finally {
    agent.destroy();
  }
}

async function unloadedLatency(directUrl: string, gatewayUrl: string | undefined): Promise<void> {
  console.log(`\nlatency without load: ${PROBES} GETs one after another on one kept-alive connection:`);
  const d = await sequentialLatencies(directUrl, PROBES);
  const ms = (x: number) => `${x.toFixed(3)} ms`;
  console.log(`  direct:                 p50 ${ms(pct(d, 50))}  p99 ${ms(pct(d, 99))}`);
  if (!gatewayUrl) return;
  const g = await sequentialLatencies(gatewayUrl, PROBES);
  console.log(`  through gate proxy app: p50 ${ms(pct(g, 50))}  p99 ${ms(pct(g, 99))}`);
  console.log(`  added: p50 ${ms(pct(g, 50) - pct(d, 50))}  p99 ${ms(pct(g, 99) - pct(d, 99))} (goal < 2 ms at p99)`);
}

/** Where the same page and file are reached: nginx itself, the HTTP app, the TCP app. */
interface Targets {
  direct: string;
  http?: string;
  tcp?: string;
}
const HTTP_LABEL = 'through gate proxy app:';
const TCP_LABEL = '  (same, as a TCP app):';

async function requestsPerSecond(t: Targets): Promise<void> {
  console.log(
    `autocannon, keep-alive, ${CONNECTIONS} connections, ${SECONDS} s, nginx's static page, ${RUNS} run(s) each:`,
  );
  const urls = [t.direct, t.http, t.tcp].filter((u): u is string => u !== undefined).map((u) => `${u}/`);
  for (const url of urls) await load(url, WARMUP_SECONDS);
  const results = new Map<string, Result[]>(urls.map((u) => [u, []]));
  for (let i = 0; i < RUNS; i++) for (const url of urls) results.get(url)!.push(await load(url, SECONDS));
  const rps = (url: string) => median(results.get(url)!.map((r) => r.requests.average));
  const p50 = (url: string) => median(results.get(url)!.map((r) => r.latency.p50));
  const p99 = (url: string) => median(results.get(url)!.map((r) => r.latency.p99));
  const line = (label: string, url: string) =>
    console.log(`  ${label.padEnd(24)} ${fixed(rps(url))} req/s, p50 ${p50(url)} ms, p99 ${p99(url)} ms`);
  const direct = `${t.direct}/`;
  line('direct:', direct);
  if (!t.http) return;
  const http = `${t.http}/`;
  line(HTTP_LABEL, http);
  if (t.tcp) line(TCP_LABEL, `${t.tcp}/`);
  console.log(`  ratio: ${(rps(http) / rps(direct)).toFixed(2)}x (goal ≥ 0.7x)`);
  console.log(`  p99 added: ${(p99(http) - p99(direct)).toFixed(2)} ms (goal < 2 ms)`);
}

async function downloads(nginx: NginxServer, t: Targets): Promise<void> {
  const path = nginx.largeFile.path;
  console.log(`\n${MIB} MiB download with curl, ${RUNS} run(s) each:`);
  const bases = [t.direct, t.http, t.tcp].filter((u): u is string => u !== undefined);
  const speeds = new Map<string, number[]>(bases.map((u) => [u, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const base of bases) speeds.get(base)!.push(await download(`${base}${path}`, nginx.largeFile.bytes));
  }
  const speed = (base: string) => median(speeds.get(base)!);
  console.log(`  ${'direct:'.padEnd(24)} ${fixed(speed(t.direct))} MiB/s`);
  if (!t.http) return;
  console.log(`  ${HTTP_LABEL.padEnd(24)} ${fixed(speed(t.http))} MiB/s`);
  if (t.tcp) console.log(`  ${TCP_LABEL.padEnd(24)} ${fixed(speed(t.tcp))} MiB/s`);
  console.log(`  ratio: ${(speed(t.http) / speed(t.direct)).toFixed(2)}x (goal ≥ 0.8x)`);
}

async function main(): Promise<void> {
  const nginx = await startNginx({ largeFileMiB: MIB, sparse: true });
  let side: GatewaySide | undefined;
  try {
    side = await startGatewaySide(nginx).catch((e: Error) => {
      console.log(
        `gateway half not run (the cluster cannot serve apps yet): ${e.message.split('\n').slice(0, 3).join(' ')}\n`,
      );
      return undefined;
    });
    const targets: Targets = { direct: nginx.url, http: side?.gateway.url, tcp: side?.tcpGateway.url };
    await requestsPerSecond(targets);
    await unloadedLatency(`${nginx.url}/`, side ? `${side.gateway.url}/` : undefined);
    await downloads(nginx, targets);
  } finally {
    await side?.gateway.stop();
    await side?.tcpGateway.stop();
    await side?.cluster.destroy();
    await nginx.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
