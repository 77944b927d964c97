// Device authentication at 10 vs 10,000 enrolled devices (issue 17 item 3): the auth server's
// half of the ceremony in this process (real swtpm quote via tpm2-tools, SQLite inventory, the
// cluster's CAs), CPU time of this process per login: inventory lookup, quote verification,
// certificate re-issue, device record update. "before, cold" swaps in the lookup the inventory
// used before the credential index (scan every device record; an auth server paid it for every
// credential it had not seen since it started, then kept a per-process hint), "after" is the
// index. The two alternate login by login in one run, so drift hits both alike. The TPM's and
// tpm2-tools' CPU are other processes and not counted.
//   BENCH_DEVICES=10,10000 BENCH_LOGINS=10 npm run bench:device-auth-inventory
import { loadavg } from 'node:os';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  AuthenticateDeviceRequest,
  AuthenticateDeviceResponseSchema,
  EnrollDeviceRequest,
  EnrollDeviceResponseSchema,
} from '../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { MAX_BATCH_OPS, type BatchOp } from '../src-cluster/storage/backend.ts';
import { claimKey } from '../src-cluster/devicetrust/asset-tag-claims.ts';
import { authenticateDevice } from '../src-cluster/devicetrust/authentication.ts';
import { credentialKey } from '../src-cluster/devicetrust/credential-index.ts';
import { enrollDevice } from '../src-cluster/devicetrust/enrollment.ts';
import { DeviceInventory, type StoredDevice } from '../src-cluster/devicetrust/inventory.ts';
import {
  activate,
  authAnswer,
  authInit,
  createDeviceAk,
  enrollAnswer,
  enrollInit,
  quote,
  startDeviceTpm,
} from '../src-cluster/devicetrust/integration/ceremony-device.ts';
import {
  Ceremony,
  loginCerts,
  payloadOf,
  registerDevice,
  startTestCluster,
} from '../src-cluster/devicetrust/integration/ceremony-driver.ts';

const sizes = (process.env.BENCH_DEVICES ?? '10,10000').split(',').map(Number);
const logins = Number(process.env.BENCH_LOGINS ?? 10);

/** The lookup before the credential index, on a cold auth server: a scan of every record. */
class ScanningInventory extends DeviceInventory {
  override async findByCredential(credentialId: string): Promise<StoredDevice | undefined> {
    return (await this.list()).find((d) => d.spec.credential?.id === credentialId);
  }
}

const c = await startTestCluster();
const tpm = await startDeviceTpm();
try {
  const ak = createDeviceAk(tpm, 'ak-bench');
  const tag = 'SN-BENCH-AUTH';
  const { token } = await registerDevice(c, tag);
  const enrolling = new Ceremony<EnrollDeviceRequest, MessageInitShape<typeof EnrollDeviceResponseSchema>>((r) =>
    enrollDevice(c.deps, { user: 'alice', address: 'bench' }, r),
  );
  const challenge = payloadOf(
    await enrolling.send(enrollInit(tpm, ak, { token, serial: tag })).receive(),
    'tpmChallenge',
  );
  const secret = activate(tpm, ak, challenge.encryptedCredential ?? {});
  enrolling.send(enrollAnswer(secret, quote(tpm, ak, challenge.attestationNonce ?? new Uint8Array())));
  payloadOf(await enrolling.receive(), 'success');
  const scanning = new ScanningInventory(c.backend);

  /** CPU ms of one login's server half (the quote itself runs in tpm2-tools, not counted). */
  async function oneLogin(inventory: DeviceInventory): Promise<number> {
    const login = await loginCerts(c.cas, 'alice');
    const caller = { user: login.user, address: '127.0.0.1:50001', certDer: login.certDer };
    const deps = { ...c.deps, inventory };
    const start = process.cpuUsage();
    const ceremony = new Ceremony<AuthenticateDeviceRequest, MessageInitShape<typeof AuthenticateDeviceResponseSchema>>(
      (requests) => authenticateDevice(deps, caller, requests),
    );
    const ch = payloadOf(
      await ceremony.send(authInit({ ...login, credentialId: ak.credentialId, serial: tag })).receive(),
      'tpmChallenge',
    );
    const serverBefore = process.cpuUsage(start);
    const answer = authAnswer(quote(tpm, ak, ch.attestationNonce ?? new Uint8Array()));
    const resume = process.cpuUsage();
    ceremony.send(answer);
    payloadOf(await ceremony.receive(), 'success');
    await ceremony.end();
    const serverAfter = process.cpuUsage(resume);
    return (serverBefore.user + serverBefore.system + serverAfter.user + serverAfter.system) / 1000;
  }

  let filled = 1;
  console.log(
    '| devices | before, cold (scan): CPU/login p50 | after (index): CPU/login p50 | before/after | logins each | load (1 min) |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const n of sizes) {
    let ops: BatchOp[] = [];
    for (; filled < n; filled++) {
      const d = c.inventory.build({ assetTag: `SN-FILL-${filled}`, osType: 'linux' });
      const cred = `cred-fill-${filled}`;
      d.spec = {
        ...d.spec,
        enroll_status: 'enrolled',
        credential: { id: cred, public_key: 'A'.repeat(400), attestation_type: 'ekcert' },
      };
      ops.push(
        { type: 'put', item: { key: `/devices/${d.metadata.name}`, value: JSON.stringify(d) } },
        { type: 'put', item: { key: claimKey('linux', d.spec.asset_tag), value: d.metadata.name } },
        { type: 'put', item: { key: credentialKey(cred), value: d.metadata.name } },
      );
      if (ops.length + 3 > MAX_BATCH_OPS) {
        await c.backend.batch(ops);
        ops = [];
      }
    }
    if (ops.length) await c.backend.batch(ops);
    await oneLogin(c.inventory); // warm-up: JIT, the certificate paths
    const before: number[] = [];
    const after: number[] = [];
    for (let i = 0; i < logins; i++) {
      before.push(await oneLogin(scanning));
      after.push(await oneLogin(c.inventory));
    }
    const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const [b, a] = [p50(before), p50(after)];
    console.log(
      `| ${n.toLocaleString('en')} | ${b.toFixed(1)} ms | ${a.toFixed(1)} ms | ${(b / a).toFixed(1)}× | ${logins} | ${loadavg()[0]!.toFixed(2)} |`,
    );
  }
} finally {
  await tpm.close();
  await c.close();
}
