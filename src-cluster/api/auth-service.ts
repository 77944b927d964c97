// The Connect implementation of gatehouse.v1.AuthService: thin translation between protobuf
// messages and the auth server, with identity and admin checks on every non-public call. The
// calls live in one file per concern (login, inventory, resources, devices, databases, apps,
// route certificates); this one assembles them and holds what they share.
import type { ConnectRouter } from '@connectrpc/connect';
import { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { guarded } from './guarded.ts';
import { peerKey } from './peer.ts';
import { requireUserCall } from './user-identity.ts';
import { loginCalls } from './auth-login-calls.ts';
import { inventoryCalls } from './auth-inventory-calls.ts';
import { resourceCalls } from './auth-resource-calls.ts';
import { deviceCalls } from './auth-device-calls.ts';
import { deviceStatusCalls } from './auth-device-status-calls.ts';
import { dbCalls } from './auth-db-calls.ts';
import { appCalls } from './auth-app-calls.ts';
import { routeCalls } from './auth-route-calls.ts';
import type { ApiDeps, UserCall } from './auth-deps.ts';

export type { ApiDeps, UserCall };

export function registerAuthService(deps: ApiDeps) {
  const id: UserCall = (ctx) => requireUserCall(ctx.values.get(peerKey), deps);
  const idReportingLocks: UserCall = (ctx) => requireUserCall(ctx.values.get(peerKey), deps, { locks: 'report' });
  return (router: ConnectRouter) =>
    router.service(
      AuthService,
      guarded(
        {
          ...loginCalls(deps, id),
          ...inventoryCalls(deps, id),
          ...resourceCalls(deps, id),
          ...deviceCalls(deps, id),
          ...deviceStatusCalls(deps, id, idReportingLocks),
          ...dbCalls(deps, id),
          ...appCalls(deps, id),
          ...routeCalls(deps, id),
        },
        deps.log,
      ),
    );
}
