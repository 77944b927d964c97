// Auto-enroll: an enroll token a logged-in user gets for the device they are on, without admin
// rights, when the cluster allows it (device_trust.auto_enroll) and an admin registered that
// device (serial + OS) and it is not enrolled yet. The admin's registration is the approval; the
// ceremony that follows still proves the TPM. Each refusal names its reason in details.reason so
// the app and `gate` word it (see docs/device-trust-app.md "Cluster API").
import type { DeviceCollectedData as WireCollectedData } from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { EnrollToken } from '../devicetrust/inventory.ts';
import type { ApiDeps } from './auth-deps.ts';
import { reportedDevice } from './auth-device-status-calls.ts';

/** An asset tag as one shell word: bare when it is plain, else single-quoted. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9._:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** What the admin runs to register this device (shown to the user to send to the helpdesk). */
export function adminAddCommand(assetTag: string, osType: string): string {
  return `gatectl devices add --asset-tag ${shellWord(assetTag)} --os ${osType} --enroll`;
}

export interface AutoEnrollRequest {
  deviceData: WireCollectedData | undefined;
  deviceId: string;
  assetTag: string;
}

/**
 * Makes the token, or throws: BAD_REQUEST for unusable input, ACCESS_DENIED with reason
 * auto_enroll_off / not_registered / already_enrolled. The caller records the audit event.
 */
export async function createAutoEnrollToken(
  deps: Pick<ApiDeps, 'devices' | 'preference' | 'auth'>,
  req: AutoEnrollRequest,
): Promise<EnrollToken> {
  if (req.deviceId || req.assetTag) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      'auto_enroll_device_data goes alone: device_id and asset_tag must be empty (the device is found by its serial)',
      { field: req.deviceId ? 'device_id' : 'asset_tag' },
    );
  }
  const reported = reportedDevice(req.deviceData, 'auto_enroll_device_data');
  if (!deps.preference().spec.device_trust.auto_enroll) {
    throw new GatehouseError(
      ErrorCode.ACCESS_DENIED,
      'auto-enroll is off in this cluster; ask your administrator for an enroll token',
      { reason: 'auto_enroll_off' },
    );
  }
  const cluster = deps.auth.settings.clusterName;
  const device = await deps.devices.findByAssetTag(reported.serial, reported.osType);
  const named = `this device (asset tag "${reported.serial}", ${reported.osType})`;
  if (!device) {
    throw new GatehouseError(
      ErrorCode.ACCESS_DENIED,
      `${named} is not registered in cluster "${cluster}"; ask your administrator to run: ` +
        adminAddCommand(reported.serial, reported.osType),
      { reason: 'not_registered', asset_tag: reported.serial, os_type: reported.osType },
    );
  }
  if (device.spec.enroll_status === 'enrolled') {
    // Re-enrolling replaces the credential another TPM may hold: that stays an admin's decision.
    throw new GatehouseError(
      ErrorCode.ACCESS_DENIED,
      `${named} is already enrolled in cluster "${cluster}"; to enroll it again ask your administrator for an enroll token`,
      { reason: 'already_enrolled', device_id: device.metadata.name },
    );
  }
  return deps.devices.createEnrollToken(device.metadata.name);
}
