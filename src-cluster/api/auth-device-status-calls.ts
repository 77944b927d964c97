// AuthService calls about the caller's own devices, for any logged-in user: what the cluster knows
// about the device the caller is on (GetDeviceStatus: the desktop app's "This device" screen and
// `gate device diagnose`), the caller's own devices (ListMyDevices), and the device lookup that
// auto-enroll (CreateDeviceEnrollToken with auto_enroll_device_data) shares with the status.
import type { ServiceImpl } from '@connectrpc/connect';
import type { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import type { DeviceCollectedData as WireCollectedData } from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { DEVICE_OS_TYPES, type DeviceOsType } from '../resources/device.ts';
import type { StoredDevice } from '../devicetrust/inventory.ts';
import { accessTargets } from '../locks/lock-targets.ts';
import type { ApiDeps, UserCall } from './auth-deps.ts';

type Impl = ServiceImpl<typeof AuthService>;

/** The serial and OS a caller reports, checked: what status and auto-enroll look devices up by. */
export interface ReportedDevice {
  serial: string;
  osType: DeviceOsType;
}

/** BAD_REQUEST naming the field when the device data is missing or unusable. */
export function reportedDevice(data: WireCollectedData | undefined, field: string): ReportedDevice {
  if (!data) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `request field "${field}" is required (this device's data)`, {
      field,
    });
  }
  if (!data.serialNumber) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `request field "${field}.serial_number" is empty; this device reported no serial (asset tag)`,
      { field: `${field}.serial_number` },
    );
  }
  if (!(DEVICE_OS_TYPES as readonly string[]).includes(data.osType)) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `request field "${field}.os_type" is "${data.osType}"; expected one of ${DEVICE_OS_TYPES.join(', ')}`,
      { field: `${field}.os_type` },
    );
  }
  return { serial: data.serialNumber, osType: data.osType as DeviceOsType };
}

/** Unix seconds of an RFC 3339 time; 0 when absent or unreadable (old records). */
function unixSeconds(time: string | undefined): bigint {
  const ms = time ? Date.parse(time) : NaN;
  return Number.isNaN(ms) ? 0n : BigInt(Math.floor(ms / 1000));
}

/** The newest collected data's time: when the device last enrolled or authenticated. */
function lastSeenUnix(device: StoredDevice): bigint {
  let newest = 0n;
  for (const snapshot of device.spec.collected_data) {
    const t = unixSeconds(snapshot.collect_time);
    if (t > newest) newest = t;
  }
  return newest;
}

function isEnrolled(device: StoredDevice | undefined): boolean {
  return device?.spec.enroll_status === 'enrolled' && device.spec.credential !== undefined;
}

export function deviceStatusCalls(
  deps: ApiDeps,
  id: UserCall,
  idReportingLocks: UserCall,
): Pick<Impl, 'getDeviceStatus' | 'listMyDevices'> {
  const { auth, devices } = deps;
  return {
    getDeviceStatus: async (req, ctx) => {
      // A locked caller may still ask: the answer carries the lock's message, and grants nothing.
      const who = await idReportingLocks(ctx);
      const reported = reportedDevice(req.deviceData, 'device_data');
      const device = await devices.findByAssetTag(reported.serial, reported.osType);
      const trust = deps.preference().spec.device_trust;
      const enrolled = isEnrolled(device);
      const credential = enrolled ? device?.spec.credential : undefined;
      const lock = auth.access.lockInForce(
        accessTargets({ user: who.user, roles: who.roles, device: device?.metadata.name }),
      );
      return {
        registered: device !== undefined,
        deviceId: device?.metadata.name ?? '',
        assetTag: device?.spec.asset_tag ?? '',
        osType: device?.spec.os_type ?? '',
        enrolled,
        credentialId: credential?.id ?? '',
        credentialMatches: credential !== undefined && req.credentialId !== '' && credential.id === req.credentialId,
        attestationType: credential?.attestation_type ?? '',
        enrolledUnix: unixSeconds(credential?.enroll_time),
        autoEnrollAvailable: trust.auto_enroll && device !== undefined && !enrolled,
        lockMessage: lock.locked ? (lock.lockMessage ?? lock.message) : '',
        lockTarget: lock.locked ? (lock.target ?? '') : '',
        deviceTrustMode: trust.mode,
      };
    },
    listMyDevices: async (_req, ctx) => {
      const who = await id(ctx);
      const mine = (await devices.list()).filter((d) => d.spec.owner === who.user);
      mine.sort(
        (a, b) => a.spec.asset_tag.localeCompare(b.spec.asset_tag) || a.spec.os_type.localeCompare(b.spec.os_type),
      );
      return {
        devices: mine.map((d) => ({
          id: d.metadata.name,
          assetTag: d.spec.asset_tag,
          osType: d.spec.os_type,
          enrolled: isEnrolled(d),
          credentialId: isEnrolled(d) ? (d.spec.credential?.id ?? '') : '',
          lastSeenUnix: lastSeenUnix(d),
        })),
      };
    },
  };
}
