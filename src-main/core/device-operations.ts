// The device calls GatehouseClient offers `gate` and the desktop app (status, enroll, my devices,
// diagnostics), kept apart so gatehouse-client.ts stays about logins and connections. Each opens
// a cluster connection for the call and closes it: these are once-per-click calls.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { CollectedDeviceData } from '../device/collect.ts';
import type { ClusterClient } from './cluster-client.ts';
import { collectDeviceDiagnostics, type DeviceDiagnostics } from './device-diagnostics.ts';
import { clusterErrorOf, localDeviceReport, type DeviceStatusReport, type MyDeviceInfo } from './device-status.ts';
import type { DeviceTrustJournal } from './device-trust-journal.ts';
import type { DeviceAgent, DeviceTrust, EnrollMethod } from './device-trust.ts';
import type { EnrollStepListener } from './enroll-steps.ts';
import { isExpired, type Profile, type ProfileStore } from './profiles.ts';
import { parseProxyAddress } from './proxy-address.ts';
import type { TpmProbeCache } from './tpm-probe.ts';
import type { Clock } from './types.ts';

export interface DeviceOperationsDeps {
  profiles: ProfileStore;
  device: DeviceTrust;
  agent: DeviceAgent;
  tpmProbe: TpmProbeCache;
  journal: DeviceTrustJournal;
  clock: Clock;
  cluster(proxy: string): Promise<ClusterClient>;
}

/** Device data, or when it cannot be read (e.g. DMI needs root) a stand-in naming why. */
function collectOrExplain(agent: DeviceAgent): CollectedDeviceData {
  try {
    return agent.collect();
  } catch (e) {
    return {
      collect_time: new Date().toISOString(),
      os_type: 'linux',
      os_id: '',
      os_version: '',
      hostname: '',
      os_username: '',
      serial_number: '',
      serial_source: 'machine-id',
      serial_note: `the device data could not be read: ${(e as Error).message}`,
    };
  }
}

export class DeviceOperations {
  constructor(private readonly deps: DeviceOperationsDeps) {}

  /**
   * The login for `proxy`: the current one when it is there, else the newest. Logins are per
   * proxy and user; the app shows one session per cluster.
   */
  loginFor(proxy: string): Profile | undefined {
    const address = parseProxyAddress(proxy).address;
    const current = this.deps.profiles.current();
    if (current && parseProxyAddress(current.proxy).address === address) return current;
    return this.deps.profiles
      .list()
      .filter((p) => parseProxyAddress(p.proxy).address === address)
      .sort((a, b) => b.loggedInAt.localeCompare(a.loggedInAt))[0];
  }

  private requireLogin(proxy: string): Profile {
    const profile = this.loginFor(proxy);
    if (!profile) {
      throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, `not logged in to ${proxy}: log in first`, { proxy });
    }
    if (isExpired(profile, this.deps.clock())) {
      throw new GatehouseError(
        ErrorCode.CERT_EXPIRED,
        `your login to ${profile.proxy} as ${profile.user} expired at ${profile.validUntil}; log in again`,
        { proxy },
      );
    }
    return profile;
  }

  async status(opts: { proxy?: string; refresh?: boolean }): Promise<DeviceStatusReport> {
    const data = collectOrExplain(this.deps.agent);
    const tpm = await this.deps.tpmProbe.get(opts.refresh ? { refresh: true } : {});
    const profile = opts.proxy ? this.loginFor(opts.proxy) : this.deps.profiles.current();
    let enrollment;
    try {
      enrollment = profile ? this.deps.device.enrollmentFor(profile) : undefined;
    } catch {
      enrollment = undefined; // a damaged file is reported by enroll and login, with what to do
    }
    const report = localDeviceReport({
      data,
      tpm,
      ...(profile ? { profile } : {}),
      ...(enrollment ? { enrollment } : {}),
    });
    const proxy = opts.proxy ?? profile?.proxy;
    if (!proxy) return report;
    let cluster: ClusterClient | undefined;
    try {
      const login = this.requireLogin(proxy);
      cluster = await this.deps.cluster(login.proxy);
      const credentialId = tpm.probe.credentialId ?? enrollment?.credentialId ?? '';
      report.cluster = await cluster.deviceStatus(login, data, credentialId);
    } catch (e) {
      report.clusterError = clusterErrorOf(e);
    } finally {
      cluster?.close();
    }
    return report;
  }

  async enroll(opts: {
    proxy: string;
    token?: string;
    auto?: boolean;
    onStep?: EnrollStepListener;
  }): Promise<{ profile: Profile; deviceId: string; credentialId: string; totalMs: number }> {
    const how = enrollMethod(opts);
    const profile = this.requireLogin(opts.proxy);
    const cluster = await this.deps.cluster(profile.proxy);
    try {
      const r = await this.deps.device.enrollAndTrust(
        cluster,
        profile,
        how,
        opts.onStep ? { onStep: opts.onStep } : {},
      );
      // A new enrollment may have made a new AK: the probe's credential id is stale.
      this.deps.tpmProbe.invalidate();
      return { profile: r.profile, deviceId: r.device.id, credentialId: r.record.credentialId, totalMs: r.totalMs };
    } finally {
      cluster.close();
    }
  }

  async myDevices(proxy: string): Promise<MyDeviceInfo[]> {
    const profile = this.requireLogin(proxy);
    const data = this.deps.agent.collect();
    const cluster = await this.deps.cluster(profile.proxy);
    try {
      return await cluster.myDevices(profile, data);
    } finally {
      cluster.close();
    }
  }

  async diagnostics(opts: { proxy?: string; client: 'gate' | 'desktop'; version: string }): Promise<DeviceDiagnostics> {
    const proxy = opts.proxy ?? this.deps.profiles.current()?.proxy;
    const status = await this.status(proxy ? { proxy } : {});
    const profile = proxy ? this.loginFor(proxy) : undefined;
    return collectDeviceDiagnostics({
      status,
      journal: this.deps.journal,
      clock: this.deps.clock,
      client: opts.client,
      version: opts.version,
      ...(profile ? { profile } : {}),
    });
  }
}

/** Exactly one of a token or auto-enroll; the token's text never goes into the error. */
export function enrollMethod(opts: { token?: string; auto?: boolean }): EnrollMethod {
  const token = opts.token?.trim();
  if (opts.auto && token)
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'give an enroll token or auto-enroll, not both');
  if (opts.auto) return { auto: true };
  if (!token) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'the enroll token is empty', { step: 'check-tpm' });
  return { token };
}
