// The "This device" side of the app: the device.* channels and the device.enrollProgress /
// device.changed events. The work itself (probing the TPM, asking the cluster, the enrollment
// ceremony, device authentication, diagnostics) is the client core's, shared with `gate`; this
// service adds what only the app has: progress events, the session it shows, dropping route
// certificates that predate the device fields, and reacting to the shared enrollment file.
// It talks to the core through DeviceCore (device-core.ts adapts GatehouseClient), so its rules
// are tested with a fake core and the whole through a real cluster in integration/.
import { isGatehouseError, type ErrorCode } from '../../src-shared/errors.ts';
import { isExpired, type Profile } from '../core/profiles.ts';
import type { Clock } from '../core/types.ts';
import type {
  ClusterDeviceView,
  DeviceDiagnosticsResult,
  EnrollResult,
  EnrollStepName,
  IpcError,
  MyDeviceView,
  SessionInfo,
  ThisDeviceView,
  TpmProbeView,
} from '../ipc/contract.ts';
import { toIpcError } from '../ipc/ipc-errors.ts';
import type { AppEvents } from './events.ts';
import type { AppLogger } from './logger.ts';
import { canonicalProxy } from './sessions.ts';

/** What the core's deviceStatus answers (core/device-status.ts DeviceStatusReport, as the app reads it). */
export interface DeviceStatusSource {
  assetTag: string;
  assetTagSource: string;
  assetTagNote?: string;
  osType: string;
  osName: string;
  hostname: string;
  tpm: TpmProbeView;
  tpmProbeMs: number;
  tpmProbeCached: boolean;
  cluster?: ClusterDeviceView;
  clusterError?: { code: ErrorCode; message: string; details?: Record<string, unknown> };
  localEnrollment?: { deviceId: string; credentialId: string; attestationType: string; enrolledAt: string };
  session?: { deviceTrusted: boolean; reason?: string; nextStep?: string; validUntil: string };
}

export type EnrollStepListener = (step: EnrollStepName, state: 'running' | 'done' | 'failed', error?: unknown) => void;

/** The client core's device calls the app uses (GatehouseClient through device-core.ts). */
export interface DeviceCore {
  /** The device store directory main watches. */
  readonly deviceHome: string;
  deviceStatus(opts: { proxy?: string; user?: string; refresh?: boolean }): Promise<DeviceStatusSource>;
  enrollDevice(opts: {
    proxy: string;
    user: string;
    token?: string;
    auto?: boolean;
    onStep?: EnrollStepListener;
  }): Promise<{ profile: Profile; deviceId: string; credentialId: string; totalMs: number }>;
  myDevices(proxy: string, user: string): Promise<MyDeviceView[]>;
  diagnostics(opts: { proxy?: string; user?: string; version: string }): Promise<DeviceDiagnosticsResult>;
  /** Device authentication of an existing login; the updated (trusted) profile, or undefined when it did not become trusted. */
  authenticateDevice(profile: Profile): Promise<Profile | undefined>;
  /** Route certificates issued before the device fields: new connections must not present them. */
  forgetRouteCertificates(profile: Profile): void;
  sessionInfo(profile: Profile, now: Date): SessionInfo;
}

/** The app's logins as this service needs them (Sessions + the clusters file). */
export interface DeviceSessions {
  /** Every added cluster's proxy. */
  proxies(): string[];
  /** The login on `proxy`, expired or not; undefined when logged out. */
  profileOf(proxy: string): Profile | undefined;
  /** A valid login, or NOT_LOGGED_IN / CERT_EXPIRED. */
  require(proxy: string): Profile;
  /** The selected cluster, if any. */
  current(): string | undefined;
  /** The session changed (new certificates): restart its expiry timer. */
  watch(proxy: string, profile: Profile): void;
}

export interface DeviceServiceDeps {
  core: DeviceCore;
  sessions: DeviceSessions;
  events: AppEvents;
  clock: Clock;
  log: AppLogger;
  version: string;
}

export class DeviceService {
  /** Enrollments in progress: their own writes to the enrollment file are not news. */
  private enrolling = 0;
  /** Re-authentications after the enrollment file changed run one at a time (one TPM). */
  private reauth: Promise<void> = Promise.resolve();

  constructor(private readonly deps: DeviceServiceDeps) {}

  /** device.status: this machine, its TPM and (with a login on `proxy`, default the selected cluster) the cluster's view. */
  async status(input: { proxy?: string | undefined; refresh?: boolean | undefined }): Promise<ThisDeviceView> {
    const proxy = input.proxy ? canonicalProxy(input.proxy) : this.deps.sessions.current();
    const user = proxy ? this.deps.sessions.profileOf(proxy)?.user : undefined;
    const r = await this.deps.core.deviceStatus({
      ...(proxy ? { proxy } : {}),
      ...(user ? { user } : {}),
      ...(input.refresh ? { refresh: true } : {}),
    });
    return thisDeviceView(r);
  }

  /**
   * device.enroll: token or auto-enroll, then device authentication of the login, reporting each
   * step. On success the session is device-trusted without a new login.
   */
  async enroll(input: {
    proxy: string;
    token?: string | undefined;
    auto?: boolean | undefined;
  }): Promise<EnrollResult> {
    const proxy = canonicalProxy(input.proxy);
    const { core, sessions, events, clock, log } = this.deps;
    const login = sessions.require(proxy);
    const onStep: EnrollStepListener = (step, state, error) =>
      events.emit('device.enrollProgress', {
        proxy,
        step,
        state,
        ...(error !== undefined ? { error: toIpcError(error, log, { step }) } : {}),
      });
    this.enrolling++;
    try {
      const r = await core.enrollDevice({
        proxy,
        user: login.user,
        ...(input.token !== undefined ? { token: input.token } : { auto: true }),
        onStep,
      });
      this.trusted(proxy, login, r.profile);
      log.info('device enrolled', { proxy, device_id: r.deviceId, total_ms: Math.round(r.totalMs) });
      events.emit('device.changed', { proxy, reason: 'enrolled' });
      return {
        session: core.sessionInfo(r.profile, clock()),
        deviceId: r.deviceId,
        credentialId: r.credentialId,
        totalMs: r.totalMs,
      };
    } catch (e) {
      log.info('device enrollment failed', { proxy, code: isGatehouseError(e) ? e.code : 'INTERNAL' });
      throw e;
    } finally {
      this.enrolling--;
    }
  }

  async diagnostics(input: { proxy?: string | undefined }): Promise<DeviceDiagnosticsResult> {
    const proxy = input.proxy ? canonicalProxy(input.proxy) : this.deps.sessions.current();
    const user = proxy ? this.deps.sessions.profileOf(proxy)?.user : undefined;
    return this.deps.core.diagnostics({
      ...(proxy ? { proxy } : {}),
      ...(user ? { user } : {}),
      version: this.deps.version,
    });
  }

  async myDevices(proxyInput: string): Promise<MyDeviceView[]> {
    const proxy = canonicalProxy(proxyInput);
    const login = this.deps.sessions.require(proxy);
    return this.deps.core.myDevices(proxy, login.user);
  }

  /**
   * The shared enrollment file changed (gate enrolled, or a record was removed): tell the renderer,
   * then run device authentication for each valid, untrusted login, so a device enrolled from a
   * terminal makes the app's sessions trusted without a new login. Resolves when that is done.
   */
  enrollmentFileChanged(): Promise<void> {
    if (this.enrolling > 0) return this.reauth;
    this.deps.events.emit('device.changed', { reason: 'enrollment-file' });
    this.reauth = this.reauth
      .then(() => this.authenticateUntrusted())
      .catch((e: unknown) => {
        // Never a rejection out of a file watcher's callback; the next change tries again.
        this.deps.log.warn('cannot react to the enrollment file change', { error: (e as Error).message });
      });
    return this.reauth;
  }

  private async authenticateUntrusted(): Promise<void> {
    const { core, sessions, events, clock, log } = this.deps;
    for (const proxy of sessions.proxies()) {
      const login = sessions.profileOf(proxy);
      if (!login || login.device || isExpired(login, clock()) || (login.deviceTrustMode ?? 'off') === 'off') continue;
      try {
        const updated = await core.authenticateDevice(login);
        if (!updated?.device) continue;
        this.trusted(proxy, login, updated);
        log.info('session device-trusted after the enrollment file changed', { proxy, user: updated.user });
        events.emit('device.changed', { proxy, reason: 'authenticated' });
      } catch (e) {
        // The login stands untrusted; the device screen shows why (journal, status).
        log.warn('device authentication after an enrollment file change failed', {
          proxy,
          error: (e as Error).message,
        });
      }
    }
  }

  /** New certificates with device fields: the old route certificates go, the expiry timer follows. */
  private trusted(proxy: string, before: Profile, after: Profile): void {
    this.deps.core.forgetRouteCertificates(before);
    this.deps.core.forgetRouteCertificates(after);
    this.deps.sessions.watch(proxy, after);
  }
}

/** The core's report as the contract's ThisDeviceView: named fields only, the cluster error as an IpcError. */
export function thisDeviceView(r: DeviceStatusSource): ThisDeviceView {
  const view: ThisDeviceView = {
    assetTag: r.assetTag,
    assetTagSource: r.assetTagSource,
    ...(r.assetTagNote ? { assetTagNote: r.assetTagNote } : {}),
    osType: r.osType,
    osName: r.osName,
    hostname: r.hostname,
    tpm: r.tpm,
    tpmProbeMs: r.tpmProbeMs,
    tpmProbeCached: r.tpmProbeCached,
  };
  if (r.cluster) view.cluster = r.cluster;
  if (r.clusterError) {
    const e: IpcError = { code: r.clusterError.code, message: r.clusterError.message };
    if (r.clusterError.details) e.details = r.clusterError.details;
    view.clusterError = e;
  }
  if (r.localEnrollment) view.localEnrollment = r.localEnrollment;
  if (r.session) view.session = r.session;
  return view;
}
