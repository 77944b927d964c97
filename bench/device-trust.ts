// npm run bench:device — device trust ceremonies against a real cluster (`gatehouse start`) and a
// throwaway swtpm as this machine's TPM, through the same client core `gate` and the app use:
//   enrollment:  `gatectl devices enroll` for a token (not timed), then DeviceTrust.enroll end to
//                end (device data, TPM open, AK, EK, both stream round trips, activation, quote);
//                p50/p95 over 20 runs, once with a new AK each run (a machine enrolling for the
//                first time) and once with the AK reused; the TPM's own share reported apart
//   login:       GatehouseClient.login (password login + device authentication), p50/p95 over 50,
//                vs the password login alone (ClusterClient.login) in the same run as baseline;
//                the TPM share is the ceremony's TPM calls, plus (apart) the TPM open + AK load
//                that runs in parallel with the password check
// Prints figures and ratios. Not a test: asserts nothing, but stops with an error when a part is
// missing (swtpm, the TPM addon).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClusterProcess } from '../test-support/cluster-process.ts';
import { startSwtpm } from '../test-support/swtpm.ts';
import { GatehouseClient } from '../src-main/core/gatehouse-client.ts';
import { akBlobPath } from '../src-main/device/tpm/ak-store.ts';
import { installWireTrace, type WireTrace } from './wire-trace.ts';

const ENROLL_RUNS = Number(process.env.BENCH_ENROLL_RUNS ?? 20);
const LOGIN_RUNS = Number(process.env.BENCH_LOGIN_RUNS ?? 50);

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const line = (label: string, total: number[], tpm?: number[]) =>
  `${label.padEnd(38)} p50 ${ms(pct(total, 50)).padStart(7)}  p95 ${ms(pct(total, 95)).padStart(7)}` +
  (tpm ? `   TPM share p50 ${ms(pct(tpm, 50)).padStart(7)}  p95 ${ms(pct(tpm, 95)).padStart(7)}` : '');

/** One trusted login with every RPC, TLS handshake and TPM command on a time line (ms from the call). */
async function traceOneLogin(
  trace: WireTrace,
  login: () => Promise<{ tpmCalls: Record<string, number> | undefined }>,
): Promise<void> {
  const from = trace.events.length;
  const t0 = performance.now();
  const r = await login();
  const total = performance.now() - t0;
  console.log(`one trusted login, traced (${ms(total)} in all):`);
  for (const e of trace.events.slice(from)) {
    const start = (e.at - t0).toFixed(1).padStart(6);
    console.log(`  +${start} ms  ${e.kind === 'rpc' ? 'rpc  ' : 'tls  '} ${e.what}${e.ms ? ` (${ms(e.ms)})` : ''}`);
  }
  console.log(`  TPM commands in the ceremony: ${JSON.stringify(r.tpmCalls ?? {})}`);
}

async function main(): Promise<void> {
  const trace = installWireTrace();
  const tpm = await startSwtpm();
  const cluster = new ClusterProcess({ clusterName: 'bench-devtrust' });
  try {
    await cluster.start();
    const user = cluster.addUser('bench', ['access']);
    const env = { ...process.env, GATEHOUSE_TPM_TCTI: tpm.tcti };
    const core = new GatehouseClient({ home: cluster.home, deviceHome: join(cluster.home, 'device'), env });
    const api = await core.cluster(cluster.proxyAddr);
    await api.establishTrust({ caPin: cluster.caPin });
    const params = { user: user.name, password: user.password };

    const tag = cluster.gate(['device', 'asset-tag'], '', env as Record<string, string>);
    if (tag.status !== 0) throw new Error(`gate device asset-tag failed: ${tag.stderr}`);
    const assetTag = tag.stdout.trim();
    const added = cluster.gatectl(['devices', 'add', '--asset-tag', assetTag, '--os', 'linux']);
    if (added.status !== 0) throw new Error(`gatectl devices add failed: ${added.stderr}`);
    const newToken = (): string => {
      const r = cluster.gatectl(['devices', 'enroll', '--asset-tag', assetTag]);
      const token = /^ {2}(\S{20,})$/m.exec(r.stdout)?.[1];
      if (r.status !== 0 || !token) throw new Error(`gatectl devices enroll failed: ${r.stderr}${r.stdout}`);
      return token;
    };

    const enroll = async (freshAk: boolean) => {
      const total: number[] = [];
      const tpmShare: number[] = [];
      for (let i = 0; i < ENROLL_RUNS; i++) {
        const token = newToken();
        if (freshAk) rmSync(akBlobPath(join(cluster.home, 'device')), { force: true });
        const profile = core.requireValidProfile();
        const t0 = performance.now();
        const r = await core.device.enroll(api, profile, { token });
        total.push(performance.now() - t0);
        tpmShare.push(r.timings.tpmMs);
      }
      return { total, tpmShare };
    };

    await api.login(params); // a profile to enroll with
    const freshAk = await enroll(true);
    const reusedAk = await enroll(false);

    // Interleaved so drift (caches, the cluster's own warm-up) hits both the same way.
    const plain: number[] = [];
    const withDevice: number[] = [];
    const deviceTpm: number[] = [];
    // Opening the TPM and loading the AK overlap the password check (GatehouseClient.login starts
    // them first); timed here on their own so the TPM's whole share is on record.
    const warmTpm: number[] = [];
    let notTrusted = 0;
    for (let i = 0; i < LOGIN_RUNS; i++) {
      let t0 = performance.now();
      await api.login(params);
      plain.push(performance.now() - t0);
      t0 = performance.now();
      const outcome = await core.login(api, params);
      withDevice.push(performance.now() - t0);
      if (outcome.deviceTrust.state === 'trusted') deviceTpm.push(outcome.deviceTrust.timings.tpmMs);
      else notTrusted++;
      t0 = performance.now();
      const prepared = core.device.prepare(cluster.proxyAddr);
      if (!prepared) throw new Error('no enrollment record for the proxy');
      await (await prepared).close();
      warmTpm.push(performance.now() - t0);
    }
    await traceOneLogin(trace, async () => {
      const o = await core.login(api, params);
      return { tpmCalls: o.deviceTrust.state === 'trusted' ? o.deviceTrust.timings.tpmCalls : undefined };
    });
    api.close();
    if (notTrusted > 0) throw new Error(`${notTrusted} of ${LOGIN_RUNS} logins were not device-trusted`);

    console.log(`device trust on swtpm (${tpm.tcti}), cluster at ${cluster.proxyAddr}`);
    console.log(line(`enrollment, new AK each run (n=${ENROLL_RUNS})`, freshAk.total, freshAk.tpmShare));
    console.log(line(`enrollment, AK reused (n=${ENROLL_RUNS})`, reusedAk.total, reusedAk.tpmShare));
    console.log(line(`password login alone (n=${LOGIN_RUNS})`, plain));
    console.log(line(`login + device authentication (n=${LOGIN_RUNS})`, withDevice, deviceTpm));
    console.log(line(`  TPM open + AK load, overlapped (n=${LOGIN_RUNS})`, warmTpm));
    const ratio = (a: number[], b: number[], p: number) => (pct(a, p) / pct(b, p)).toFixed(2);
    console.log(
      `login + device auth vs login alone: ${ratio(withDevice, plain, 50)}x at p50, ${ratio(withDevice, plain, 95)}x at p95; ` +
        `device authentication adds ${ms(pct(withDevice, 50) - pct(plain, 50))} at p50, of which the TPM ${ms(pct(deviceTpm, 50))}`,
    );
    console.log(
      `enrollment p95 ${ms(pct(freshAk.total, 95))} (goal < 1000 ms); login + device auth p95 ${ms(pct(withDevice, 95))} (goal < 150 ms)`,
    );
  } finally {
    await cluster.destroy();
    await tpm.stop();
  }
}

main().catch((e: unknown) => {
  console.error(`bench:device failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
