// "This device": what this machine is, its TPM, what the cluster of a login knows about it, the
// local enrollment record and the session's device trust. One function for the desktop app's
// screen and `gate device status` / `gate device diagnose`, so both say the same thing. A cluster
// problem never fails the report: it becomes clusterError and the local half still shows.
import type { GetDeviceStatusResponse, MyDevice } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { CollectedDeviceData } from '../device/collect.ts';
import { deviceTrustStatus } from './device-trust-status.ts';
import type { EnrollmentRecord } from './enrollments.ts';
import type { Profile } from './profiles.ts';
import type { TpmProbe } from './tpm-probe.ts';

export interface ClusterDeviceStatus {
  cluster: string;
  proxy: string;
  registered: boolean;
  enrolled: boolean;
  deviceId?: string;
  credentialId?: string;
  credentialMatches?: boolean;
  attestationType?: string;
  enrolledAt?: string;
  autoEnrollAvailable: boolean;
  adminCommand: string;
  lock?: { message: string; target: string };
  deviceTrustMode: string;
}

export interface DeviceStatusReport {
  assetTag: string;
  assetTagSource: string;
  assetTagNote?: string;
  osType: string;
  osName: string;
  hostname: string;
  tpm: TpmProbe;
  tpmProbeMs: number;
  tpmProbeCached: boolean;
  cluster?: ClusterDeviceStatus;
  clusterError?: { code: ErrorCode; message: string; details?: Record<string, unknown> };
  localEnrollment?: { deviceId: string; credentialId: string; attestationType: string; enrolledAt: string };
  session?: { deviceTrusted: boolean; reason?: string; nextStep?: string; validUntil: string };
}

export interface MyDeviceInfo {
  id: string;
  assetTag: string;
  osType: string;
  enrolled: boolean;
  lastSeen?: string;
  thisDevice: boolean;
}

/** What a helpdesk admin runs to register (and make a token for) this device. */
export function adminCommandFor(assetTag: string, osType: string): string {
  const tag = /^[A-Za-z0-9._:@/+-]+$/.test(assetTag) ? assetTag : `'${assetTag.replace(/'/g, `'\\''`)}'`;
  return `gatectl devices add --asset-tag ${tag} --os ${osType} --enroll`;
}

const unixToIso = (s: bigint): string | undefined => (s > 0n ? new Date(Number(s) * 1000).toISOString() : undefined);

/** GetDeviceStatus's answer for people (ClusterClient.deviceStatus). */
export function clusterDeviceStatusFrom(
  r: GetDeviceStatusResponse,
  ctx: { cluster: string; proxy: string; assetTag: string; osType: string },
): ClusterDeviceStatus {
  const enrolledAt = unixToIso(r.enrolledUnix);
  return {
    cluster: ctx.cluster,
    proxy: ctx.proxy,
    registered: r.registered,
    enrolled: r.enrolled,
    ...(r.deviceId ? { deviceId: r.deviceId } : {}),
    ...(r.credentialId ? { credentialId: r.credentialId, credentialMatches: r.credentialMatches } : {}),
    ...(r.attestationType ? { attestationType: r.attestationType } : {}),
    ...(enrolledAt ? { enrolledAt } : {}),
    autoEnrollAvailable: r.autoEnrollAvailable,
    adminCommand: adminCommandFor(r.assetTag || ctx.assetTag, r.osType || ctx.osType),
    ...(r.lockMessage || r.lockTarget ? { lock: { message: r.lockMessage, target: r.lockTarget } } : {}),
    deviceTrustMode: r.deviceTrustMode || 'off',
  };
}

/** ListMyDevices's answer, newest seen first; `thisSerial`'s device (same OS) is marked. */
export function myDevicesFrom(devices: MyDevice[], thisDevice: { serial: string; osType: string }): MyDeviceInfo[] {
  return devices
    .map((d) => {
      const lastSeen = unixToIso(d.lastSeenUnix);
      return {
        id: d.id,
        assetTag: d.assetTag,
        osType: d.osType,
        enrolled: d.enrolled,
        ...(lastSeen ? { lastSeen } : {}),
        thisDevice: d.assetTag === thisDevice.serial && d.osType === thisDevice.osType,
      };
    })
    .sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? '') || a.assetTag.localeCompare(b.assetTag));
}

/** "Debian GNU/Linux 12 (bookworm)"-like, from what collect read. */
export function osNameOf(d: CollectedDeviceData): string {
  return [d.os_id, d.os_version].filter(Boolean).join(' ') || d.os_type;
}

export function clusterErrorOf(e: unknown): NonNullable<DeviceStatusReport['clusterError']> {
  const err =
    e instanceof GatehouseError ? e : new GatehouseError(ErrorCode.INTERNAL, String((e as Error)?.message ?? e));
  return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
}

/** The local half of the report: device data, TPM probe, and for a login its record and session. */
export function localDeviceReport(p: {
  data: CollectedDeviceData;
  tpm: { probe: TpmProbe; ms: number; cached: boolean };
  profile?: Profile;
  enrollment?: EnrollmentRecord;
}): DeviceStatusReport {
  const { data, profile, enrollment } = p;
  const report: DeviceStatusReport = {
    assetTag: data.serial_number,
    assetTagSource: data.serial_source,
    ...(data.serial_note ? { assetTagNote: data.serial_note } : {}),
    osType: data.os_type,
    osName: osNameOf(data),
    hostname: data.hostname,
    tpm: p.tpm.probe,
    tpmProbeMs: p.tpm.ms,
    tpmProbeCached: p.tpm.cached,
  };
  if (enrollment) {
    const { deviceId, credentialId, attestationType, enrolledAt } = enrollment;
    report.localEnrollment = { deviceId, credentialId, attestationType, enrolledAt };
  }
  if (profile) {
    const s = deviceTrustStatus(profile, enrollment);
    report.session = {
      deviceTrusted: s.state === 'trusted',
      ...(s.reason ? { reason: s.reason } : {}),
      ...(s.nextStep ? { nextStep: s.nextStep } : {}),
      validUntil: profile.validUntil,
    };
  }
  return report;
}
