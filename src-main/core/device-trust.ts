// Device trust as the client core offers it to `gate` and the desktop app: enrolling this device
// (recorded locally per cluster) and, after every login to a cluster this device is enrolled in,
// device authentication, so the login's certificates carry the device fields. A failed device
// authentication never fails the login: the result says why the session is not device-trusted
// and what to do about it, with a stable code.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { deviceTrustNextStep, type DeviceTrustResult } from './device-trust-text.ts';

export { deviceTrustNextStep, deviceTrustText, type DeviceTrustResult } from './device-trust-text.ts';
import { EnrollmentStore, type EnrollmentRecord } from './enrollments.ts';
import type { CeremonyTimings, CeremonyTpm, DeviceSummary } from '../device/ceremony/stream-steps.ts';
import type { LoginDeviceChallenge } from '../device/ceremony/answer-login-challenge.ts';
import { LOGIN_QUOTE_PCRS } from '../device/ceremony/early-pcrs.ts';
import { collectDeviceData, nodeCollectFs, type CollectedDeviceData } from '../device/collect.ts';
import { readAkBlob } from '../device/tpm/ak-store.ts';
import type { ClusterClient } from './cluster-client.ts';
import { EnrollStepTracker, type EnrollStepListener, type EnrollStepName } from './enroll-steps.ts';
import type { DeviceTrustJournal } from './device-trust-journal.ts';
import { probeTpm, type TpmProbe } from './tpm-probe.ts';
import { TpmSessionCache } from './tpm-sessions.ts';
import { parseProxyAddress } from './proxy-address.ts';
import type { Profile, ProfileCredentials } from './profiles.ts';
import type { Clock, CoreLogger } from './types.ts';

/** How the core reaches this machine's TPM and device data (tests pass fakes). */
export interface DeviceAgent {
  /** Opens the TPM; the caller closes it. `onNotice`: e.g. "the AK was recreated". */
  openTpm(onNotice?: (message: string) => void): Promise<CeremonyTpm & { close(): Promise<void> }>;
  collect(): CollectedDeviceData;
  /** Whether the TPM can be used and what it is (tpm-probe.ts). Agents without it: opened and closed. */
  probeTpm?(): Promise<TpmProbe>;
  /** Releases what the agent keeps between ceremonies (a kept TPM session); agents keeping nothing omit it. */
  close?(): Promise<void>;
}

/**
 * The real TPM (loaded on first use: the addon is not needed until a device ceremony runs), its
 * AK blob in the device store (device-home.ts). `tpmAddonPath`: where the addon is when it is not
 * in the repository's native/build (the packaged app's resources dir). `keepTpmSession`: keep the
 * TPM open with the AK loaded between ceremonies for that long idle (long-running processes; see
 * tpm-sessions.ts); without it every ceremony opens and closes its own session (the `gate` CLI).
 * Kept only behind a resource manager (the kernel's /dev/tpmrm*, tabrmd) unless
 * `withoutResourceManager`: a TPM without one (swtpm over TCP, /dev/tpm0) serves one connection
 * and has about three object slots, so a kept session would lock `gate` out of it.
 */
export function defaultDeviceAgent(opts: {
  deviceHome: string;
  env: Record<string, string | undefined>;
  tpmAddonPath?: string;
  keepTpmSession?: KeepTpmSession;
}): DeviceAgent {
  const env = opts.env as NodeJS.ProcessEnv;
  const addonPath = opts.tpmAddonPath ? { addonPath: opts.tpmAddonPath } : {};
  const open = async (onNotice?: (message: string) => void) => {
    const { TpmClient, tctiFrom } = await import('../device/tpm/tpm-client.ts');
    return TpmClient.open({
      cacheDir: opts.deviceHome,
      tcti: tctiFrom({ env }),
      env,
      ...addonPath,
      ...(onNotice ? { onNotice } : {}),
    });
  };
  const keep = opts.keepTpmSession;
  const sessions =
    keep && (keep.withoutResourceManager || behindResourceManager(tctiOf(env)))
      ? new TpmSessionCache({
          open,
          idleMs: keep.idleMs,
          // The AK store is a small JSON file: read per lease so a new AK (enrollment, another
          // process recreating it) is never answered with the one still loaded.
          storedAkPublic: () => readAkBlob(opts.deviceHome)?.public ?? null,
        })
      : undefined;
  return {
    openTpm: (onNotice) => (sessions ? sessions.lease(onNotice) : open(onNotice)),
    collect: () => collectDeviceData({ fs: nodeCollectFs, env: opts.env }),
    async probeTpm() {
      const { TpmClient, tctiFrom } = await import('../device/tpm/tpm-client.ts');
      const tcti = tctiFrom({ env });
      return probeTpm({
        tcti,
        open: () => TpmClient.open({ cacheDir: opts.deviceHome, tcti, env, ...addonPath }),
        storedAkPublic: () => readAkBlob(opts.deviceHome)?.public ?? null,
      });
    },
    close: async () => sessions?.close(),
  };
}

/** How long a long-running process keeps its TPM session (see defaultDeviceAgent). */
export interface KeepTpmSession {
  idleMs: number;
  /** Keep it even when the TCTI reaches the TPM directly (a benchmark owning its swtpm). */
  withoutResourceManager?: boolean;
}

/** The TCTI the agent opens; the same rule as tpm-client.ts's tctiFrom (kept here to load the addon lazily). */
function tctiOf(env: NodeJS.ProcessEnv): string {
  return env.GATEHOUSE_TPM_TCTI ?? 'device:/dev/tpmrm0';
}

/** Whether connections to this TCTI are multiplexed by a resource manager (each gets its own object slots). */
export function behindResourceManager(tcti: string): boolean {
  return /^device:\/dev\/tpmrm\d+$/.test(tcti) || tcti === 'tabrmd' || tcti.startsWith('tabrmd:');
}

/** How to enroll: with the administrator's one-time token, or by asking the cluster for one (auto-enroll). */
export type EnrollMethod = { token: string } | { auto: true };

export interface EnrollOptions {
  onStep?: EnrollStepListener;
  onNotice?: (message: string) => void;
}

type OpenTpm = CeremonyTpm & { close(): Promise<void> };
/** A TPM being opened with its AK loaded, see DeviceTrust.prepare. */
export type PreparedTpm = Promise<OpenTpm>;

/** Closes a prepared TPM nobody is going to use. */
export async function releasePrepared(prepared: PreparedTpm | undefined): Promise<void> {
  if (!prepared) return;
  try {
    await (await prepared).close();
  } catch {
    // opening failed or closing failed: nothing left to release
  }
}

/** A device challenge folded into a login, with the credential id the login named. */
export interface FoldedChallenge {
  challenge: LoginDeviceChallenge;
  credentialId: string;
  /** The login's key and certificates when it is not stored yet (see ClusterClient.loginWithDeviceChallenge). */
  credentials?: ProfileCredentials;
}

export interface LoginOutcome {
  /** The stored profile (device fields set when device-trusted). */
  profile: Profile;
  deviceTrust: DeviceTrustResult;
}

export interface EnrollOutcome {
  device: DeviceSummary;
  record: EnrollmentRecord;
  timings: CeremonyTimings;
}

export interface EnrollAndTrustOutcome extends EnrollOutcome {
  /** The login, re-issued with the device fields and stored. */
  profile: Profile;
  /** From the first TPM call to the trusted profile. */
  totalMs: number;
}

export class DeviceTrust {
  readonly enrollments: EnrollmentStore;
  /** PCR values prepare() read for a TPM it opened, taken by the login's authenticate(). */
  readonly #pcrsReadEarlier = new WeakMap<OpenTpm, Map<number, Buffer>>();

  constructor(
    private readonly deps: {
      deviceHome: string;
      agent: DeviceAgent;
      clock: Clock;
      logger: CoreLogger;
      /** Where failures are kept for diagnostics; none: not kept. */
      journal?: DeviceTrustJournal;
    },
  ) {
    this.enrollments = new EnrollmentStore(deps.deviceHome);
  }

  /** The local enrollment record for a profile's cluster, if this device was enrolled there. */
  enrollmentFor(profile: Pick<Profile, 'cluster' | 'proxy'>): EnrollmentRecord | undefined {
    return this.enrollments.find(profile.cluster, parseProxyAddress(profile.proxy).address);
  }

  /**
   * Enrolls this device in the profile's cluster and records it. Steps check-tpm, create-ak,
   * activate-credential, quote, done are reported; a failure is journaled and thrown with
   * details.step. The login's certificates stay as they are: see enrollAndTrust.
   */
  async enroll(
    cluster: ClusterClient,
    profile: Profile,
    how: EnrollMethod,
    opts: EnrollOptions = {},
  ): Promise<EnrollOutcome> {
    const steps = new EnrollStepTracker(opts.onStep);
    try {
      const { outcome, tpm } = await this.enrollSteps(cluster, profile, how, steps, opts.onNotice);
      await tpm.close().catch(() => undefined);
      steps.finish();
      return outcome;
    } catch (e) {
      throw this.journaled(steps.fail(scrubToken(e, how)), profile.cluster);
    }
  }

  /**
   * Enrolls, then at once runs device authentication on the same login with the TPM still open:
   * the login's certificates are re-issued with the device fields and stored, so the session is
   * trusted without logging in again. Adds the step authenticate before done.
   */
  async enrollAndTrust(
    cluster: ClusterClient,
    profile: Profile,
    how: EnrollMethod,
    opts: EnrollOptions = {},
  ): Promise<EnrollAndTrustOutcome> {
    const started = performance.now();
    const steps = new EnrollStepTracker(opts.onStep);
    try {
      const { outcome, tpm } = await this.enrollSteps(cluster, profile, how, steps, opts.onNotice);
      steps.start('authenticate');
      if (profile.device) {
        // The cluster authenticates a login once: certificates that carry device fields (of an
        // earlier enrollment) are not re-issued. The new enrollment counts from the next login.
        await tpm.close().catch(() => undefined);
        throw new GatehouseError(
          ErrorCode.BAD_REQUEST,
          `enrolled, but this login already carries the device fields of an earlier enrollment (device ${profile.device.deviceId}); log in again to be device-trusted with the new one`,
          { reason: 'relogin_required' },
        );
      }
      const auth = await this.authenticate(cluster, profile, Promise.resolve(tpm), { journal: false });
      if (auth.deviceTrust.state === 'failed') {
        const { code, message } = auth.deviceTrust;
        throw new GatehouseError(code, `enrolled, but device authentication failed: ${message}`);
      }
      if (auth.deviceTrust.state !== 'trusted') {
        throw new GatehouseError(
          ErrorCode.INTERNAL,
          `enrolled, but device authentication did not run (${auth.deviceTrust.state})`,
        );
      }
      steps.finish();
      const totalMs = Math.round(performance.now() - started);
      this.deps.logger.info('device enrolled and trusted', { cluster: profile.cluster, total_ms: totalMs });
      return { ...outcome, profile: auth.profile, totalMs };
    } catch (e) {
      throw this.journaled(steps.fail(scrubToken(e, how)), profile.cluster);
    }
  }

  /** The ceremony with step reports; returns the TPM still open (the caller closes it). */
  private async enrollSteps(
    cluster: ClusterClient,
    profile: Profile,
    how: EnrollMethod,
    steps: EnrollStepTracker,
    onNotice?: (message: string) => void,
  ): Promise<{ outcome: EnrollOutcome; tpm: OpenTpm }> {
    steps.start('check-tpm');
    const deviceData = this.deps.agent.collect();
    // Auto-enroll asks for the token while the TPM opens: both are needed before the ceremony.
    const opened = this.deps.agent.openTpm(onNotice);
    opened.catch(() => undefined);
    let token: string;
    try {
      token = 'token' in how ? how.token : (await cluster.autoEnrollToken(profile, deviceData)).token;
    } catch (e) {
      await releasePrepared(opened);
      throw e;
    }
    const tpm = await opened;
    try {
      const r = await cluster.enrollDevice(profile, { tpm, deviceData, token, onStep: (s) => steps.start(s) });
      const record: EnrollmentRecord = {
        cluster: profile.cluster,
        proxy: parseProxyAddress(profile.proxy).address,
        deviceId: r.device.id,
        assetTag: r.device.assetTag,
        osType: r.device.osType,
        credentialId: r.credentialId,
        attestationType: r.device.attestationType,
        enrolledAt: this.deps.clock().toISOString(),
      };
      this.enrollments.save(record);
      this.deps.logger.info('device enrolled', {
        cluster: profile.cluster,
        device_id: r.device.id,
        auto: 'auto' in how,
        total_ms: r.timings.totalMs,
        tpm_ms: r.timings.tpmMs,
      });
      return { outcome: { device: r.device, record, timings: r.timings }, tpm };
    } catch (e) {
      await tpm.close().catch(() => undefined);
      throw e;
    }
  }

  private journaled(e: GatehouseError, cluster: string): GatehouseError {
    const step = e.details?.step as EnrollStepName | undefined;
    this.deps.journal?.record({ code: e.code, message: e.message, cluster, ...(step ? { step } : {}) });
    return e;
  }

  /**
   * Opens the TPM and loads the attestation key ahead of need, when this device is enrolled in a
   * cluster behind `proxy`: loading the AK means recreating the EK (tens of ms) and runs on a
   * worker thread, so it overlaps the password check instead of adding to the login. Failures
   * surface when authenticate() awaits it.
   */
  prepare(proxy: string): PreparedTpm | undefined {
    let address: string;
    try {
      address = parseProxyAddress(proxy).address;
      if (!this.enrollments.list().some((e) => e.proxy === address)) return undefined;
    } catch {
      return undefined; // authenticate() reports a damaged enrollment file
    }
    const prepared = (async () => {
      const tpm = await this.deps.agent.openTpm((m) => this.deps.logger.warn(m));
      try {
        await tpm.attestationKey();
        // The PCRs a login's quote covers: after the Login response only the quote is left.
        this.#pcrsReadEarlier.set(tpm, await tpm.readPcrs([...LOGIN_QUOTE_PCRS]));
      } catch {
        // the ceremony calls both again and reports the error with its code
      }
      return tpm;
    })();
    prepared.catch(() => undefined); // awaited (and reported) by authenticate()
    return prepared;
  }

  /**
   * The credential id a login to `proxy` names so the cluster folds a device challenge into it:
   * the enrollment record's for that proxy, when there is exactly one.
   */
  loginCredentialId(proxy: string): string | undefined {
    try {
      const address = parseProxyAddress(proxy).address;
      const ids = new Set(
        this.enrollments.list().flatMap((e) => (e.proxy === address && e.credentialId ? [e.credentialId] : [])),
      );
      return ids.size === 1 ? [...ids][0] : undefined;
    } catch {
      return undefined; // authenticate() reports a damaged enrollment file
    }
  }

  /**
   * This device's data, read on the next turn of the event loop: started right after a login
   * request is sent, the reading overlaps the password check. Undefined when reading fails
   * (authenticate() reads again and reports the error).
   */
  collectSoon(): Promise<CollectedDeviceData | undefined> {
    return new Promise((resolve) =>
      setImmediate(() => {
        try {
          resolve(this.deps.agent.collect());
        } catch {
          resolve(undefined);
        }
      }),
    );
  }

  /**
   * Device authentication for a fresh login when this device is enrolled in its cluster: the
   * answer to the challenge folded into the login when there is one for the enrolled
   * credential (one call), else the AuthenticateDevice stream. Never throws for a device
   * problem: the login stands, and the result says why it is not device-trusted.
   */
  async authenticate(
    cluster: ClusterClient,
    profile: Profile,
    prepared?: PreparedTpm,
    opts: { journal?: boolean; folded?: FoldedChallenge; deviceData?: CollectedDeviceData } = {},
  ): Promise<LoginOutcome> {
    if (profile.deviceTrustMode === 'off') {
      void releasePrepared(prepared);
      return { profile, deviceTrust: { state: 'off', cluster: profile.cluster } };
    }
    let record: EnrollmentRecord | undefined;
    try {
      record = this.enrollmentFor(profile);
    } catch (e) {
      void releasePrepared(prepared);
      return { profile, deviceTrust: this.failure(e) };
    }
    if (!record) {
      void releasePrepared(prepared);
      return { profile, deviceTrust: { state: 'not-enrolled-here', cluster: profile.cluster } };
    }
    let tpm: OpenTpm | undefined;
    try {
      const deviceData = opts.deviceData ?? this.deps.agent.collect();
      tpm = prepared ? await prepared : await this.deps.agent.openTpm((m) => this.deps.logger.warn(m));
      const folded = opts.folded?.credentialId === record.credentialId ? opts.folded : undefined;
      const pcrsReadEarlier = this.#pcrsReadEarlier.get(tpm);
      this.#pcrsReadEarlier.delete(tpm);
      const r = folded
        ? await cluster.answerDeviceChallenge(profile, {
            tpm,
            deviceData,
            ...folded,
            ...(pcrsReadEarlier ? { pcrsReadEarlier } : {}),
          })
        : await cluster.authenticateDevice(profile, {
            tpm,
            deviceData,
            ...(record.credentialId ? { expectedCredentialId: record.credentialId } : {}),
          });
      return { profile: r.profile, deviceTrust: { state: 'trusted', device: r.profile.device!, timings: r.timings } };
    } catch (e) {
      const failure = this.failure(e);
      this.deps.logger.warn('device authentication failed', {
        cluster: profile.cluster,
        code: failure.code,
        error: failure.message,
      });
      if (opts.journal !== false) {
        this.deps.journal?.record({
          code: failure.code,
          message: failure.message,
          cluster: profile.cluster,
          step: 'authenticate',
        });
      }
      return { profile, deviceTrust: failure };
    } finally {
      await tpm?.close().catch(() => undefined);
    }
  }

  private failure(e: unknown): Extract<DeviceTrustResult, { state: 'failed' }> {
    const err =
      e instanceof GatehouseError ? e : new GatehouseError(ErrorCode.INTERNAL, (e as Error)?.message ?? String(e));
    return { state: 'failed', code: err.code, message: err.message, nextStep: deviceTrustNextStep(err.code) };
  }
}

/** The error without the token in its text (a server echoing it back must not put it in a log). */
function scrubToken(e: unknown, how: EnrollMethod): unknown {
  if (!('token' in how) || !how.token.trim() || !(e instanceof GatehouseError)) return e;
  const token = how.token.trim();
  if (!e.message.includes(token)) return e;
  return new GatehouseError(e.code, e.message.split(token).join('[token]'), e.details);
}
