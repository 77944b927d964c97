// npm run bench:device-enroll — enrolling from the desktop app (issue 15 "Speed"), against a real
// cluster (`gatehouse start`) and a throwaway swtpm, through the client core the app's main
// process calls (src-main/app's device service is a thin IPC layer over it):
//   enroll + trust:  GatehouseClient.enrollDevice — "Enroll" pressed to "Trusted": the enrollment
//                    ceremony, then device authentication of the same login with the TPM still
//                    open and the profile stored; p50/p95 over BENCH_ENROLL_RUNS (20), each a fresh
//                    device identity (the AK blob removed: a machine enrolling for the first time)
//                    with a fresh login and a token from `gatectl devices enroll` (not timed)
//   CLI ceremony:    DeviceTrust.enroll alone (what `gate device enroll` timed before issue 15:
//                    no device authentication), interleaved with the above in the same run
//   status:          GatehouseClient.deviceStatus — "This device" with a login: cold (a new client:
//                    the TPM probe opens the TPM) vs cached (probe from memory; the cluster's
//                    GetDeviceStatus is asked every time), p50/p95 over BENCH_STATUS_RUNS (20)
// Goals: enroll + trust p95 < 1.5 s; cached status < 200 ms. Not a test: asserts nothing, but
// stops with an error when a part is missing (swtpm, the TPM addon) or a run is not trusted.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClusterProcess } from '../test-support/cluster-process.ts';
import { startSwtpm } from '../test-support/swtpm.ts';
import { GatehouseClient } from '../src-main/core/gatehouse-client.ts';
import { akBlobPath } from '../src-main/device/tpm/ak-store.ts';

const ENROLL_RUNS = Number(process.env.BENCH_ENROLL_RUNS ?? 20);
const STATUS_RUNS = Number(process.env.BENCH_STATUS_RUNS ?? 20);

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const line = (label: string, xs: number[]) =>
  `${label.padEnd(44)} p50 ${ms(pct(xs, 50)).padStart(8)}  p95 ${ms(pct(xs, 95)).padStart(8)}`;

async function main(): Promise<void> {
  const tpm = await startSwtpm();
  const cluster = new ClusterProcess({ clusterName: 'bench-devenroll' });
  try {
    await cluster.start();
    const user = cluster.addUser('bench', ['access']);
    const env = { ...process.env, GATEHOUSE_TPM_TCTI: tpm.tcti } as Record<string, string>;
    const deviceHome = join(cluster.home, 'device');
    const client = () => new GatehouseClient({ home: cluster.home, deviceHome, env });
    const core = client();
    const api = await core.cluster(cluster.proxyAddr);
    await api.establishTrust({ caPin: cluster.caPin });
    const login = () => api.login({ user: user.name, password: user.password });

    const tag = cluster.gate(['device', 'asset-tag'], '', env);
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

    const enrollTrust: number[] = [];
    const ceremony: number[] = [];
    for (let i = 0; i < ENROLL_RUNS; i++) {
      // Interleaved so drift hits both the same way; each run a fresh device identity and login.
      let token = newToken();
      rmSync(akBlobPath(deviceHome), { force: true });
      await login();
      let t0 = performance.now();
      const r = await core.enrollDevice({ proxy: cluster.proxyAddr, token });
      enrollTrust.push(performance.now() - t0);
      if (!r.profile.device) throw new Error(`run ${i}: enrolled but not device-trusted`);

      token = newToken();
      rmSync(akBlobPath(deviceHome), { force: true });
      const profile = await login();
      t0 = performance.now();
      await core.device.enroll(api, profile, { token });
      ceremony.push(performance.now() - t0);
    }

    const cold: number[] = [];
    const cached: number[] = [];
    for (let i = 0; i < STATUS_RUNS; i++) {
      const fresh = client();
      let t0 = performance.now();
      const a = await fresh.deviceStatus({ proxy: cluster.proxyAddr });
      cold.push(performance.now() - t0);
      t0 = performance.now();
      const b = await fresh.deviceStatus({ proxy: cluster.proxyAddr });
      cached.push(performance.now() - t0);
      if (a.clusterError || !b.tpmProbeCached || b.tpm.state !== 'present') {
        throw new Error(`status run ${i}: ${JSON.stringify(a.clusterError ?? b.tpm)}`);
      }
    }
    api.close();

    console.log(`device enrollment from the app on swtpm (${tpm.tcti}), cluster at ${cluster.proxyAddr}`);
    console.log(line(`enroll + trust (enrollDevice, n=${ENROLL_RUNS})`, enrollTrust));
    console.log(line(`CLI ceremony alone (DeviceTrust.enroll, n=${ENROLL_RUNS})`, ceremony));
    console.log(
      `device authentication adds ${ms(pct(enrollTrust, 50) - pct(ceremony, 50))} at p50 ` +
        `(${(pct(enrollTrust, 50) / pct(ceremony, 50)).toFixed(2)}x the ceremony)`,
    );
    console.log(line(`This device status, cold (n=${STATUS_RUNS})`, cold));
    console.log(line(`This device status, cached probe (n=${STATUS_RUNS})`, cached));
    console.log(
      `enroll + trust p95 ${ms(pct(enrollTrust, 95))} (goal < 1500 ms); cached status p95 ${ms(pct(cached, 95))} (goal < 200 ms)`,
    );
  } finally {
    await cluster.destroy();
    await tpm.stop();
  }
}

main().catch((e: unknown) => {
  console.error(`bench:device-enroll failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
