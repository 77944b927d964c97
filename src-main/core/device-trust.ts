// Device trust as the client core offers it to `gate` and the desktop app: enrolling this device
// (recorded locally per cluster) and, after every login to a cluster this device is enrolled in,
// device authentication, so the login's certificates carry the device fields. A failed device
// authentication never fails the login: the result says why the session is not device-trusted
// and what to do about it, with a stable code.
import { join } from 'node:path';
import { ErrorCode, GatehouseError, type ErrorCode as ErrorCodeT } from '../../src-shared/errors.ts';
import { EnrollmentStore, type EnrollmentRecord } from './enrollments.ts';
import type { CeremonyTimings, CeremonyTpm, DeviceSummary } from '../device/ceremony/stream-steps.ts';
import { collectDeviceData, nodeCollectFs, type CollectedDeviceData } from '../device/collect.ts';
import type { ClusterClient } from './cluster-client.ts';
import { parseProxyAddress } from './proxy-address.ts';
import type { Profile } from './profiles.ts';
import type { Clock, CoreLogger } from './types.ts';

/** How the core reaches this machine's TPM and device data (tests pass fakes). */
export interface DeviceAgent {
  /** Opens the TPM; the caller closes it. `onNotice`: e.g. "the AK was recreated". */
  openTpm(onNotice?: (message: string) => void): Promise<CeremonyTpm & { close(): Promise<void> }>;
  collect(): CollectedDeviceData;
}

/** The real TPM (loaded on first use: the addon is not needed until a device ceremony runs). */
export function defaultDeviceAgent(opts: { home: string; env: Record<string, string | undefined> }): DeviceAgent {
  return {
    async openTpm(onNotice) {
      const { TpmClient, tctiFrom } = await import('../device/tpm/tpm-client.ts');
      const env = opts.env as NodeJS.ProcessEnv;
      return TpmClient.open({
        cacheDir: join(opts.home, 'device'),
        tcti: tctiFrom({ env }),
        env,
        ...(onNotice ? { onNotice } : {}),
      });
    },
    collect: () => collectDeviceData({ fs: nodeCollectFs, env: opts.env }),
  };
}

export type DeviceTrustResult =
  | { state: 'trusted'; device: NonNullable<Profile['device']>; timings: CeremonyTimings }
  /** No local enrollment record for this cluster: nothing was tried. */
  | { state: 'not-enrolled-here'; cluster: string }
  /** The cluster's device trust mode is `off`: device authentication is not run at all. */
  | { state: 'off'; cluster: string }
  | { state: 'failed'; code: ErrorCodeT; message: string; nextStep: string };

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

/** What to do after a failed device authentication, by code. */
export function deviceTrustNextStep(code: ErrorCodeT): string {
  switch (code) {
    case ErrorCode.DEVICE_NOT_ENROLLED:
      return 'ask your administrator for an enroll token, run "gate device enroll" (it asks for the token), then log in again';
    case ErrorCode.DEVICE_ATTESTATION_FAILED:
      return 'the cluster did not accept this TPM\'s evidence; ask your administrator to check the device ("gatectl devices ls") and enroll it again';
    case ErrorCode.TPM_PERMISSION_DENIED:
    case ErrorCode.TPM_UNAVAILABLE:
    case ErrorCode.TPM_BINDING:
    case ErrorCode.TPM_LOCKOUT:
    case ErrorCode.TPM_ERROR:
    case ErrorCode.TPM_NOT_SUPPORTED:
      return 'fix the TPM problem above (check with "gate device keyget"), then log in again';
    case ErrorCode.ACCESS_DENIED:
      return 'ask your administrator (a lock or policy refuses this device)';
    case ErrorCode.CERT_EXPIRED:
    case ErrorCode.CERT_INVALID:
    case ErrorCode.NOT_LOGGED_IN:
      return 'log in again';
    default:
      return 'log in again; if this keeps happening, tell your administrator';
  }
}

export class DeviceTrust {
  readonly enrollments: EnrollmentStore;

  constructor(private readonly deps: { home: string; agent: DeviceAgent; clock: Clock; logger: CoreLogger }) {
    this.enrollments = new EnrollmentStore(deps.home);
  }

  /** The local enrollment record for a profile's cluster, if this device was enrolled there. */
  enrollmentFor(profile: Pick<Profile, 'cluster' | 'proxy'>): EnrollmentRecord | undefined {
    return this.enrollments.find(profile.cluster, parseProxyAddress(profile.proxy).address);
  }

  /** Enrolls this device in the profile's cluster with a one-time token and records it. */
  async enroll(
    cluster: ClusterClient,
    profile: Profile,
    token: string,
    onNotice?: (message: string) => void,
  ): Promise<EnrollOutcome> {
    const deviceData = this.deps.agent.collect();
    const tpm = await this.deps.agent.openTpm(onNotice);
    try {
      const r = await cluster.enrollDevice(profile, { tpm, deviceData, token });
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
        total_ms: r.timings.totalMs,
        tpm_ms: r.timings.tpmMs,
      });
      return { device: r.device, record, timings: r.timings };
    } finally {
      await tpm.close().catch(() => undefined);
    }
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
      } catch {
        // the ceremony calls it again and reports the error with its code
      }
      return tpm;
    })();
    prepared.catch(() => undefined); // awaited (and reported) by authenticate()
    return prepared;
  }

  /**
   * Device authentication for a fresh login when this device is enrolled in its cluster.
   * Never throws for a device problem: the login stands, and the result says why it is not
   * device-trusted.
   */
  async authenticate(cluster: ClusterClient, profile: Profile, prepared?: PreparedTpm): Promise<LoginOutcome> {
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
      const deviceData = this.deps.agent.collect();
      tpm = prepared ? await prepared : await this.deps.agent.openTpm((m) => this.deps.logger.warn(m));
      const r = await cluster.authenticateDevice(profile, {
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

/** One line for people: `this session is device-trusted (device "TAG"/linux)` or why not. */
export function deviceTrustText(r: DeviceTrustResult): string {
  switch (r.state) {
    case 'trusted':
      return `this session is device-trusted (device "${r.device.assetTag}"${r.device.osType ? `/${r.device.osType}` : ''})`;
    case 'not-enrolled-here':
      return `not device-trusted: this device is not enrolled in cluster "${r.cluster}"`;
    case 'off':
      return `not device-trusted: cluster "${r.cluster}" does not use device trust`;
    case 'failed':
      return `not device-trusted: ${r.message} [${r.code}]`;
  }
}
