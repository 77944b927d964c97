// The device trust modes a cluster (cluster_auth_preference) and a role (options.device_trust_mode)
// may name. They are part of the resource schemas, so they live with the resources; how the
// modes combine into a decision is the authorizer's business (src-cluster/authz/device-trust-mode.ts).

export const CLUSTER_DEVICE_TRUST_MODES = ['off', 'optional', 'required', 'required-for-humans'] as const;
export type ClusterDeviceTrustMode = (typeof CLUSTER_DEVICE_TRUST_MODES)[number];
export const ROLE_DEVICE_TRUST_MODES = ['off', 'optional', 'required'] as const;
export type RoleDeviceTrustMode = (typeof ROLE_DEVICE_TRUST_MODES)[number];
export const DEFAULT_CLUSTER_DEVICE_TRUST_MODE: ClusterDeviceTrustMode = 'optional';
