// npm run bench:device — device trust ceremonies against a real cluster (`gatehouse start`) and a
// throwaway swtpm as this machine's TPM, through the same client core `gate` and the app use:
//   enrollment:  `gatectl devices enroll` for a token (not timed), then DeviceTrust.enroll end to
//                end (device data, TPM open, AK, EK, both stream round trips, activation, quote);
//                p50/p95 over 20 runs, once with a new AK each run (a machine enrolling for the
//                first time) and once with the AK reused; the TPM's own share reported apart
//   login:       GatehouseClient.login (password login + device authentication, the challenge
//                folded into the login; TPM session kept as in the app, and opened per login as
//                in `gate`), p50/p95 over 50, vs the password login alone
//                (ClusterClient.login) as baseline, the pre-issue-16 stream path and the TPM floor
//                in the same run (bench/device-login.ts); RPCs and TLS handshakes per login; then
//                one login of each path traced (every RPC, handshake and TPM command on a time line)
// Prints figures and ratios. Not a test: asserts nothing, but stops with an error when a part is
// missing (swtpm, the TPM addon).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClusterProcess } from '../test-support/cluster-process.ts';
import { startSwtpm } from '../test-support/swtpm.ts';
import { GatehouseClient } from '../src-main/core/gatehouse-client.ts';
import type { LoginOutcome } from '../src-main/core/device-trust.ts';
import { akBlobPath } from '../src-main/device/tpm/ak-store.ts';
import { installWireTrace, type WireTrace } from './wire-trace.ts';
import { benchLogins, ms, pct, printServerSteps } from './device-login.ts';

const ENROLL_RUNS = Number(process.env.BENCH_ENROLL_RUNS ?? 20);
const LOGIN_RUNS = Number(process.env.BENCH_LOGIN_RUNS ?? 50);

const line = (label: string, total: number[], tpm?: number[]) =>
  `${label.padEnd(38)} p50 ${ms(pct(total, 50)).padStart(7)}  p95 ${ms(pct(total, 95)).padStart(7)}` +
  (tpm ? `   TPM share p50 ${ms(pct(tpm, 50)).padStart(7)}  p95 ${ms(pct(tpm, 95)).padStart(7)}` : '');

/** One trusted login with every RPC, TLS handshake and TPM command on a time line (ms from the call). */
async function traceOneLogin(
  trace: WireTrace,
  how: string,
  login: () => Promise<{ tpmCalls: Record<string, number> | undefined }>,
): Promise<void> {
  const from = trace.events.length;
  const t0 = performance.now();
  const r = await login();
  const total = performance.now() - t0;
  // The last call's stream closes a moment after its response resolved the login: let it, so its
  // duration is on the line (outside the timing).
  await new Promise((resolve) => setTimeout(resolve, 50));
  console.log(`one trusted login, ${how}, traced (${ms(total)} in all):`);
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
    const deviceHome = join(cluster.home, 'device');
    // As the app runs it: the TPM session kept between logins. The bench owns its swtpm, so the
    // session is kept without a resource manager (the app keeps it only behind one).
    const core = new GatehouseClient({
      home: cluster.home,
      deviceHome,
      env,
      keepTpmSession: { idleMs: 10 * 60_000, withoutResourceManager: true },
    });
    // As `gate login` runs it: every login opens the TPM and loads the AK again.
    const oneShot = new GatehouseClient({ home: cluster.home, deviceHome, env });
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

    // The cluster refuses a second enrollment with the key a device is already enrolled with, so
    // each run with the AK kept starts from a freshly registered device record.
    const registerAgain = (): void => {
      for (const args of [
        ['devices', 'rm', '--asset-tag', assetTag],
        ['devices', 'add', '--asset-tag', assetTag, '--os', 'linux'],
      ]) {
        const r = cluster.gatectl(args);
        if (r.status !== 0) throw new Error(`gatectl ${args.join(' ')} failed: ${r.stderr}`);
      }
    };

    const enroll = async (freshAk: boolean) => {
      const total: number[] = [];
      const tpmShare: number[] = [];
      for (let i = 0; i < ENROLL_RUNS; i++) {
        if (!freshAk) registerAgain();
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

    const logFrom = cluster.logs.length;
    await benchLogins({
      core,
      oneShot,
      api,
      params,
      trace,
      runs: LOGIN_RUNS,
      pids: { cluster: cluster.pid, tpm: tpm.pid },
    });
    printServerSteps(cluster.logs, logFrom);
    const tpmCalls = (o: LoginOutcome) =>
      o.deviceTrust.state === 'trusted' ? o.deviceTrust.timings.tpmCalls : undefined;
    await traceOneLogin(trace, 'challenge folded into the login', async () => ({
      tpmCalls: tpmCalls(await core.login(api, params)),
    }));
    await traceOneLogin(trace, 'stream after the login (before issue 16)', async () => {
      const prepared = core.device.prepare(api.proxy.address);
      return { tpmCalls: tpmCalls(await core.device.authenticate(api, await api.login(params), prepared)) };
    });
    api.close();
    console.log(line(`enrollment, new AK each run (n=${ENROLL_RUNS})`, freshAk.total, freshAk.tpmShare));
    console.log(line(`enrollment, AK reused (n=${ENROLL_RUNS})`, reusedAk.total, reusedAk.tpmShare));
    console.log(`enrollment p95 ${ms(pct(freshAk.total, 95))} (goal < 1000 ms)`);
    await core.close();
  } finally {
    await cluster.destroy();
    await tpm.stop();
  }
}

main().catch((e: unknown) => {
  console.error(`bench:device failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
