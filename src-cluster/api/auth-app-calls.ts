// AuthService calls for application access: the apps the caller's roles let them see (`gate apps
// ls`, the desktop app's resource browser). Route certificates for an app: auth-route-calls.ts.
import type { ServiceImpl } from '@connectrpc/connect';
import type { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { appsVisibleTo } from '../auth/app-catalog.ts';
import type { ApiDeps, UserCall } from './auth-deps.ts';

type Impl = ServiceImpl<typeof AuthService>;

export function appCalls(deps: ApiDeps, id: UserCall): Pick<Impl, 'listApps'> {
  const { auth } = deps;
  return {
    // Role app_labels decide (deny wins); device trust does not filter: an untrusted device sees
    // the app and learns at launch, in the app's own words, why it is refused.
    listApps: async (_req, ctx) => {
      const access = await auth.access.forIdentity(await id(ctx));
      return { apps: appsVisibleTo(access.roleSet, await auth.apps.list()) };
    },
  };
}
