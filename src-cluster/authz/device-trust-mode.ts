// Who needs a trusted device. The cluster's mode (cluster_auth_preference.spec.device_trust.mode)
// sets the floor; a role's spec.options.device_trust_mode can raise it for the resources that role
// grants, and when several roles grant the same access the strictest wins. `off` at the cluster
// turns device trust off altogether (no device authentication, role modes are not consulted).
// Anything unrecognised decides "deny": a typo must never open access.
import type { DeviceFields } from '../../src-shared/cert-fields.ts';
import { CLUSTER_DEVICE_TRUST_MODES, ROLE_DEVICE_TRUST_MODES } from '../resources/device-trust-modes.ts';

// The mode lists belong to the resource schemas (resources sit below authz); re-exported so
// callers that decide about device trust find everything here.
export {
  CLUSTER_DEVICE_TRUST_MODES,
  DEFAULT_CLUSTER_DEVICE_TRUST_MODE,
  ROLE_DEVICE_TRUST_MODES,
  type ClusterDeviceTrustMode,
  type RoleDeviceTrustMode,
} from '../resources/device-trust-modes.ts';

/** The text users know from Teleport, shown as the SSH channel-open failure message. */
export const UNAUTHORIZED_DEVICE = 'unauthorized device';

export type DeviceRequirement =
  | { required: boolean; unknownMode?: undefined }
  /** A mode value no code knows: callers deny and name it. */
  | { required: true; unknownMode: string };

export interface RequirementInput {
  clusterMode: string;
  /** device_trust_mode of each role that grants the access in question (undefined = unset). */
  roleModes: readonly (string | undefined)[];
  /** Bots are exempt under required-for-humans. */
  isBot: boolean;
}

export function deviceTrustRequirement(input: RequirementInput): DeviceRequirement {
  const cluster = input.clusterMode;
  if (!(CLUSTER_DEVICE_TRUST_MODES as readonly string[]).includes(cluster)) {
    return { required: true, unknownMode: `cluster mode "${cluster}"` };
  }
  if (cluster === 'off') return { required: false };
  for (const mode of input.roleModes) {
    if (mode !== undefined && !(ROLE_DEVICE_TRUST_MODES as readonly string[]).includes(mode)) {
      return { required: true, unknownMode: `role mode "${mode}"` };
    }
  }
  if (cluster === 'required') return { required: true };
  // A role that requires a trusted device is stricter than the humans-only floor: bots too.
  const roleRequires = input.roleModes.includes('required');
  if (cluster === 'required-for-humans') return { required: !input.isBot || roleRequires };
  return { required: roleRequires };
}

/** True when all three device fields are present: the certificate came from device authentication. */
export function isDeviceTrusted(device: Partial<DeviceFields> | undefined): boolean {
  return !!(device?.deviceId && device.assetTag && device.credentialId);
}
