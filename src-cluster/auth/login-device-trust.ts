// What a client is told about its device trust requirement at login and in WhoAmI. The
// enforcement itself happens per access in the authorizer (src-cluster/authz/); this answer is
// the coarse one a client needs up front: does *some* role of mine, or the cluster, make me need
// a trusted device? It uses the same rules (deviceTrustRequirement) over every role the user
// holds, so it can only ever be stricter than a single access decision, never looser.
import { deviceTrustRequirement } from '../authz/device-trust-mode.ts';
import type { RoleSpec } from '../resources/role.ts';
import type { UserResource } from '../resources/user.ts';
import type { ResourceStore } from '../storage/resources.ts';

export interface LoginDeviceTrust {
  /** The cluster mode (off, optional, required, required-for-humans). */
  mode: string;
  required: boolean;
}

export interface LoginDeviceTrustDeps {
  clusterMode: () => string;
  users: ResourceStore<UserResource['spec']>;
  roles: ResourceStore<RoleSpec>;
}

/** For `user` holding `roleNames` (the roles in the certificate; unknown ones are skipped). */
export async function loginDeviceTrust(
  deps: LoginDeviceTrustDeps,
  user: string,
  roleNames: readonly string[],
): Promise<LoginDeviceTrust> {
  const mode = deps.clusterMode();
  const stored = await deps.users.find(user).catch(() => undefined);
  const roleModes: (string | undefined)[] = [];
  for (const name of roleNames) {
    const role = await deps.roles.find(name).catch(() => undefined);
    if (role) roleModes.push(role.spec.options?.device_trust_mode);
  }
  const requirement = deviceTrustRequirement({ clusterMode: mode, roleModes, isBot: stored?.spec.is_bot === true });
  return { mode, required: requirement.required };
}
