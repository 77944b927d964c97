// The Connect implementation of gatehouse.v1.AuthService: thin translation between protobuf
// messages and the auth server, with identity and admin checks on every non-public call. The
// calls live in one file per concern (login, inventory, resources, devices); this one assembles
// them and holds what they share.
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import type { AuthServer } from '../auth/auth-server.ts';
import type { Logger } from '../log/logger.ts';
import { guarded } from './guarded.ts';
import { peerKey } from './peer.ts';
import { requireUserCall } from './user-identity.ts';
import { loginCalls } from './auth-login-calls.ts';
import { inventoryCalls } from './auth-inventory-calls.ts';
import { resourceCalls } from './auth-resource-calls.ts';
import { deviceCalls } from './auth-device-calls.ts';
import type { ResourceAdmin } from './resource-admin.ts';
import type { DeviceInventory } from '../devicetrust/inventory.ts';
import type { ClusterAuthPreferenceResource } from '../resources/cluster-auth-preference.ts';
import type { LoginDeviceTrust } from '../auth/login-device-trust.ts';
import { type AuditEmitter } from '../audit/audit-events.ts';
import { type AuditSearcher } from '../audit/audit-api.ts';

export interface ApiDeps {
  auth: AuthServer;
  resources: ResourceAdmin;
  devices: DeviceInventory;
  version: string;
  proxyPublicAddr: string;
  log: Logger;
  /** The cluster auth preference in force (read per request). */
  preference: () => ClusterAuthPreferenceResource;
  /** The device trust requirement of a user holding these roles (see login-device-trust.ts). */
  deviceTrustFor: (user: string, roles: string[]) => Promise<LoginDeviceTrust>;
  /** Where admin actions of this API are recorded (device.token.create); discarded when absent. */
  audit?: AuditEmitter;
  /** The audit log SearchAuditEvents reads; the call fails as unavailable when absent. */
  auditLog?: AuditSearcher;
}

/** The authenticated user of a call (locks and the admin identity checked): see user-identity.ts. */
export type UserCall = (ctx: HandlerContext) => ReturnType<typeof requireUserCall>;

export function registerAuthService(deps: ApiDeps) {
  const id: UserCall = (ctx) => requireUserCall(ctx.values.get(peerKey), deps);
  return (router: ConnectRouter) =>
    router.service(
      AuthService,
      guarded(
        {
          ...loginCalls(deps, id),
          ...inventoryCalls(deps, id),
          ...resourceCalls(deps, id),
          ...deviceCalls(deps, id),
        },
        deps.log,
      ),
    );
}
