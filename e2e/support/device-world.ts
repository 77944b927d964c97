// The device-trust half of the e2e world: puts the cluster and this machine in one device-trust
// state in one line (`await deviceWorld.setup({ mode: 'required', registered: true, ... })`), the
// way an administrator and the person at the machine would: the cluster auth preference through
// `gatectl create -f`, the device through `gatectl devices add`, enrollment through
// `gate device enroll`, locks through `gatectl lock`. No backdoors into the cluster's storage.
//
// The app and `gate` share one device store (docs/device-trust-app.md "One device identity per OS
// user"): both get the same GATEHOUSE_DEVICE_HOME and the same swtpm, while `gate` keeps its own
// GATEHOUSE_HOME (its login), as on a real machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_LABELS, test as base } from '../fixtures.ts';
import { ThisDevicePage } from '../pages/this-device-page.ts';
import { ClusterProcess, type ClusterUser, type CliResult } from '../../test-support/cluster-process.ts';
import { startSwtpm, type Swtpm } from '../../test-support/swtpm.ts';

export type ClusterDeviceTrustMode = 'off' | 'optional' | 'required';
/** `absent`: the TCTI points at a TPM device node that does not exist (a machine without a TPM). */
export type DeviceTpmChoice = 'swtpm' | 'absent';

export interface DeviceWorldState {
  mode: ClusterDeviceTrustMode;
  /** cluster_auth_preference.spec.device_trust.auto_enroll; default false. */
  autoEnroll?: boolean;
  /** This machine's asset tag is in the inventory (`gatectl devices add`); default false. */
  registered?: boolean;
  /** Enrolled with `gate device enroll` (implies registered); default false. */
  enrolled?: boolean;
  /** Must match the test's `deviceTpm` option: the app's TPM is fixed when it starts. */
  tpm?: DeviceTpmChoice;
}

/** A TPM device node no machine has: tpm2-tss's device TCTI then fails to open, like a machine without a TPM. */
export const ABSENT_TPM_TCTI = 'device:/dev/gatehouse-e2e-no-tpm0';
/** The asset tag of the other device tokens are made for (tokenForAnotherDevice). */
export const OTHER_DEVICE_TAG = 'E2E-OTHER-LAPTOP-0001';
/** An expired token's lifetime: short enough to wait out in a test. */
const EXPIRED_TOKEN_TTL = '1s';

/** The single-use token `gatectl devices add --enroll` / `devices enroll` print on its own indented line. */
export function tokenFrom(stdout: string): string {
  const token = /^ {2}(\S{20,})$/m.exec(stdout)?.[1];
  if (!token) throw new Error(`gatectl printed no enroll token:\n${stdout}`);
  return token;
}

function deviceIdFrom(stdout: string): string {
  const id = /^Device ID: (\S+)$/m.exec(stdout)?.[1];
  if (!id) throw new Error(`gatectl printed no device id:\n${stdout}`);
  return id;
}

function ok(what: string, r: CliResult): CliResult {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

function capYaml(mode: ClusterDeviceTrustMode, autoEnroll: boolean): string {
  return [
    'kind: cluster_auth_preference',
    'version: v2',
    'metadata:',
    '  name: cluster-auth-preference',
    'spec:',
    '  type: local',
    "  second_factor: 'off'",
    '  device_trust:',
    `    mode: ${mode}`,
    `    auto_enroll: ${autoEnroll}`,
    '',
  ].join('\n');
}

export class DeviceWorld {
  /** The shared device store of this test (AK blob, enrollments.json, trust-errors.json). */
  readonly deviceHome: string;
  /** `gate`'s own home (its login profile), separate from the app's. */
  readonly gateHome: string;
  #assetTag: string | undefined;
  #deviceId: string | undefined;
  #gateLoggedIn = false;

  constructor(
    readonly cluster: ClusterProcess,
    readonly user: ClusterUser,
    readonly swtpm: Swtpm,
    readonly tpm: DeviceTpmChoice,
    /** Temp dir holding deviceHome and gateHome; the fixture removes it. */
    readonly scratch: string = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-device-')),
  ) {
    this.deviceHome = join(scratch, 'device');
    this.gateHome = join(scratch, 'gate-home');
  }

  get tcti(): string {
    return this.tpm === 'swtpm' ? this.swtpm.tcti : ABSENT_TPM_TCTI;
  }

  /** Environment of the app's main side: the shared store and this test's TPM. */
  get appEnv(): Record<string, string> {
    return { GATEHOUSE_DEVICE_HOME: this.deviceHome, GATEHOUSE_TPM_TCTI: this.tcti };
  }

  /** Environment of `gate` as the person at this machine (in the app's terminal or a shell). */
  get gateEnv(): Record<string, string> {
    return { ...this.appEnv, GATEHOUSE_HOME: this.gateHome };
  }

  /** What `gate device asset-tag` prints in the app's environment: the tag the cluster knows this machine by. */
  get assetTag(): string {
    this.#assetTag ??= ok(
      'gate device asset-tag',
      this.cluster.gate(['device', 'asset-tag'], '', this.gateEnv),
    ).stdout.trim();
    return this.#assetTag;
  }

  /** This machine's device id once setup registered it. */
  get deviceId(): string {
    if (!this.#deviceId) throw new Error('this machine is not registered: setup({ registered: true }) first');
    return this.#deviceId;
  }

  /** The exact command the app shows an unregistered device (docs/device-trust-app.md). */
  get adminCommand(): string {
    return `gatectl devices add --asset-tag ${this.assetTag} --os linux --enroll`;
  }

  /**
   * Puts the cluster and this machine in `state`, starting from scratch: locks lifted, this
   * machine's and the other device's inventory entries removed, then the mode written, the
   * device registered and enrolled as asked.
   */
  async setup(state: DeviceWorldState): Promise<void> {
    if (state.tpm && state.tpm !== this.tpm) {
      throw new Error(
        `setup({ tpm: '${state.tpm}' }) but the app started with '${this.tpm}': add test.use({ deviceTpm: '${state.tpm}' })`,
      );
    }
    if (state.enrolled && this.tpm === 'absent') throw new Error('enrolled: true needs a TPM (deviceTpm: swtpm)');
    this.unlockAll();
    this.removeDevice(this.assetTag);
    this.removeDevice(OTHER_DEVICE_TAG);
    this.#deviceId = undefined;
    this.setMode(state.mode, state.autoEnroll ?? false);
    if (state.registered || state.enrolled) this.register();
    if (state.enrolled) this.gateEnroll(this.enrollToken());
  }

  /** The cluster auth preference as an administrator writes it. */
  setMode(mode: ClusterDeviceTrustMode, autoEnroll: boolean): void {
    this.cluster.apply(capYaml(mode, autoEnroll));
  }

  /** `gatectl devices add` for this machine (not enrolled, no token). */
  register(): string {
    const r = ok(
      'gatectl devices add',
      this.cluster.gatectl(['devices', 'add', '--asset-tag', this.assetTag, '--os', 'linux']),
    );
    this.#deviceId = deviceIdFrom(r.stdout);
    return this.#deviceId;
  }

  /** A fresh single-use enroll token for this (registered) machine. */
  enrollToken(): string {
    return tokenFrom(
      ok('gatectl devices enroll', this.cluster.gatectl(['devices', 'enroll', '--asset-tag', this.assetTag])).stdout,
    );
  }

  /** A token for this machine that has already expired (made with a 1 s TTL, then waited out). */
  async expiredToken(): Promise<string> {
    const r = ok(
      'gatectl devices enroll --ttl',
      this.cluster.gatectl(['devices', 'enroll', '--asset-tag', this.assetTag, '--ttl', EXPIRED_TOKEN_TTL]),
    );
    const token = tokenFrom(r.stdout);
    // Expiry is checked against whole seconds in places: wait past the next full second too.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    return token;
  }

  /** A valid token, but for another registered device (the cluster refuses it: asset_tag_mismatch). */
  tokenForAnotherDevice(): string {
    const r = ok(
      'gatectl devices add (other device)',
      this.cluster.gatectl(['devices', 'add', '--asset-tag', OTHER_DEVICE_TAG, '--os', 'linux', '--enroll']),
    );
    return tokenFrom(r.stdout);
  }

  /** `gate login` in gate's own home, once per test (enrolling needs a login). */
  gateLogin(): void {
    if (this.#gateLoggedIn) return;
    const c = this.cluster;
    ok(
      'gate login',
      c.gate(
        ['login', '--proxy', c.proxyAddr, '--ca-pin', c.caPin, '--user', this.user.name, '--password-stdin'],
        `${this.user.password}\n`,
        this.gateEnv,
      ),
    );
    this.#gateLoggedIn = true;
  }

  /** `gate device enroll --token-stdin` with the app's TPM and device store; returns its output. */
  gateEnroll(token: string): CliResult {
    this.gateLogin();
    return ok(
      'gate device enroll',
      this.cluster.gate(['device', 'enroll', '--token-stdin'], `${token}\n`, this.gateEnv),
    );
  }

  /** Locks the test user out (`gatectl lock --user`); returns the lock's name. */
  lockUser(message: string): string {
    return this.#lock(['--user', this.user.name], message);
  }

  /** Locks this machine out (`gatectl lock --device`); returns the lock's name. */
  lockDevice(message: string): string {
    return this.#lock(['--device', this.deviceId], message);
  }

  /** Lifts every lock (`gatectl get locks` then `gatectl rm lock/NAME`). */
  unlockAll(): void {
    const r = ok('gatectl get locks', this.cluster.gatectl(['get', 'locks', '--format', 'json']));
    for (const name of lockNames(r.stdout)) ok(`gatectl rm lock/${name}`, this.cluster.gatectl(['rm', `lock/${name}`]));
  }

  #lock(target: string[], message: string): string {
    const r = ok('gatectl lock', this.cluster.gatectl(['lock', ...target, '--message', message]));
    const name = /Created a lock with name "([^"]+)"/.exec(r.stdout)?.[1];
    if (!name) throw new Error(`gatectl lock printed no name:\n${r.stdout}`);
    return name;
  }

  /** Removes a device if the inventory has it (a missing one is what we want anyway). */
  private removeDevice(assetTag: string): void {
    const r = this.cluster.gatectl(['devices', 'rm', '--asset-tag', assetTag]);
    if (r.status !== 0 && !/not found|no device/i.test(r.stderr)) {
      throw new Error(`gatectl devices rm --asset-tag ${assetTag} failed (${r.status}):\n${r.stderr}`);
    }
  }
}

/** Lock names from `gatectl get locks --format json` (an array, or one object per line). */
export function lockNames(json: string): string[] {
  const text = json.trim();
  if (!text) return [];
  const parsed: unknown = text.startsWith('[') ? JSON.parse(text) : text.split('\n').map((l) => JSON.parse(l));
  return (parsed as { metadata?: { name?: string } }[]).map((l) => l.metadata?.name).filter((n): n is string => !!n);
}

interface DeviceTestFixtures {
  /** The app's TPM for this test: `test.use({ deviceTpm: 'absent' })` for a machine without one. */
  deviceTpm: DeviceTpmChoice;
  deviceWorld: DeviceWorld;
  thisDevice: ThisDevicePage;
}

interface DeviceWorkerFixtures {
  swtpm: Swtpm;
}

/**
 * The device specs' test: one cluster of their own per worker (other specs expect device trust
 * off), one swtpm per worker, and per test a fresh device store shared by the app and `gate`.
 */
export const test = base.extend<DeviceTestFixtures, DeviceWorkerFixtures>({
  swtpm: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      const tpm = await startSwtpm();
      try {
        await use(tpm);
      } finally {
        await tpm.stop();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  cluster: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      const cluster = new ClusterProcess({
        clusterName: 'e2e-device',
        nodeName: 'web-1',
        nodeLabels: { ...NODE_LABELS },
      });
      try {
        await cluster.start();
        await use(cluster);
      } finally {
        await cluster.destroy();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  deviceTpm: ['swtpm', { option: true }],

  deviceWorld: async ({ cluster, users, swtpm, deviceTpm }, use) => {
    const world = new DeviceWorld(cluster, users.alice, swtpm, deviceTpm);
    try {
      await use(world);
    } finally {
      // The next test (or spec on this worker) starts unlocked whatever this one did.
      world.unlockAll();
      rmSync(world.scratch, { recursive: true, force: true });
    }
  },

  appEnv: async ({ deviceWorld }, use) => {
    await use(deviceWorld.appEnv);
  },

  thisDevice: async ({ page }, use) => {
    await use(new ThisDevicePage(page));
  },
});
