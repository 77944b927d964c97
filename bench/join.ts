// npm run bench:join — how long a new service waits from presenting its join token to holding its
// host identity (X.509 host certificate + SSH host certificate), against a real `gatehouse start`.
//   join:      a fresh Connect client (new TLS connection, pinned to the host CA, as a joining
//              service has) calls ClusterService.Join with a multi-use token and a fresh key pair;
//              t0 before the call, t1 when the certificates are in hand. Key generation is outside.
//   baseline:  the same fresh client shape calling AuthService.Ping (public, no work): what a
//              round trip with a new connection costs on this machine, so the ratio shows what
//              the join itself adds (token check + compare-and-swap, audit write, two signatures).
// Runs alternate so load drifts hit both alike. BENCH_JOIN_RUNS (default 100). Target: join p95
// < 300 ms. Not a test; it stops with an error when a join fails.
import { performance } from 'node:perf_hooks';
import { AuthService } from '../proto/gen/gatehouse/v1/auth_pb.ts';
import { ClusterService } from '../proto/gen/gatehouse/v1/cluster_pb.ts';
import { ClusterProcess } from '../test-support/cluster-process.ts';
import { adminIdentityOf, apiClient, newServiceKeys } from '../src-cluster/integration/api-clients.ts';

const RUNS = Number(process.env.BENCH_JOIN_RUNS ?? 100);
const TARGET_P95_MS = 300;

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const ms = (x: number) => `${x.toFixed(1)} ms`;
const line = (label: string, v: number[]) =>
  `${label.padEnd(34)} p50 ${ms(pct(v, 50)).padStart(9)}  p95 ${ms(pct(v, 95)).padStart(9)}  p99 ${ms(pct(v, 99)).padStart(9)}`;

async function main(): Promise<void> {
  const cluster = new ClusterProcess({ clusterName: 'bench-join' });
  await cluster.start();
  try {
    const add = cluster.gatectl(['tokens', 'add', '--type=node', '--ttl', '1h', '--multi-use']);
    const token = /The join token: (\S+)/.exec(add.stdout)?.[1];
    if (!token) throw new Error(`gatectl tokens add failed: ${add.stderr}${add.stdout}`);
    const cas = adminIdentityOf(cluster.dataDir).tls_host_ca_pem;
    const joins: number[] = [];
    const pings: number[] = [];
    // Warm-up: the first calls pay for module and JIT warm-up on both sides.
    for (let i = 0; i < 5; i++) {
      const warm = apiClient(AuthService, cluster.proxyAddr, cas);
      await warm.ping({});
      warm.close();
    }
    for (let i = 0; i < RUNS; i++) {
      const keys = newServiceKeys();
      const joinClient = apiClient(ClusterService, cluster.proxyAddr, cas);
      let t0 = performance.now();
      const res = await joinClient.join({
        token,
        role: 'node',
        name: `bench-${i}`,
        sshPublicKey: keys.sshPublicKey,
        tlsPublicKeyPem: keys.tlsPublicKeyPem,
        dnsNames: [],
        ips: ['127.0.0.1'],
      });
      joins.push(performance.now() - t0);
      joinClient.close();
      if (!res.tlsCertPem || !res.sshHostCert) throw new Error('join returned no certificates');
      const pingClient = apiClient(AuthService, cluster.proxyAddr, cas);
      t0 = performance.now();
      await pingClient.ping({});
      pings.push(performance.now() - t0);
      pingClient.close();
    }
    process.stdout.write(`join benchmark: ${RUNS} runs each, fresh TLS connection per call\n`);
    process.stdout.write(line('Join (token → host identity)', joins) + '\n');
    process.stdout.write(line('baseline: Ping', pings) + '\n');
    const ratio = (p: number) => (pct(joins, p) / pct(pings, p)).toFixed(2);
    process.stdout.write(`ratio join/ping: p50 ${ratio(50)}x  p95 ${ratio(95)}x  p99 ${ratio(99)}x\n`);
    const p95 = pct(joins, 95);
    process.stdout.write(
      `target join p95 < ${TARGET_P95_MS} ms: ${p95 < TARGET_P95_MS ? 'met' : 'MISSED'} (${ms(p95)})\n`,
    );
  } finally {
    await cluster.destroy();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:join failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
