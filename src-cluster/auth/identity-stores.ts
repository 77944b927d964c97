// The user and role stores auth decides with, over one backend, and the preset roles every
// cluster starts with. One place, so the daemon and the tests that build an auth server by hand
// wire them the same way.
import type { Backend } from '../storage/backend.ts';
import { ResourceStore } from '../storage/resources.ts';
import { presetRoles, roleKind, type RoleSpec } from '../resources/role.ts';
import { userKind, type UserResource } from '../resources/user.ts';
import { validateKind } from '../resources/validate.ts';

export interface IdentityStores {
  roles: ResourceStore<RoleSpec>;
  users: ResourceStore<UserResource['spec']>;
}

export function identityStores(backend: Backend): IdentityStores {
  return {
    roles: new ResourceStore<RoleSpec>(backend, { kind: 'role', validate: (r) => validateKind(roleKind, r) as never }),
    users: new ResourceStore<UserResource['spec']>(backend, {
      kind: 'user',
      validate: (r) => validateKind(userKind, r) as never,
    }),
  };
}

/** Creates the preset roles that are missing; `created` hears each one made here. */
export async function createPresetRoles(
  roles: ResourceStore<RoleSpec>,
  created: (name: string) => void = () => {},
): Promise<void> {
  for (const preset of presetRoles()) {
    if (await roles.find(preset.metadata.name)) continue;
    // Another process sharing the storage may create it at the same moment: that is fine.
    await roles.create(preset as never).then(
      () => created(preset.metadata.name),
      () => undefined,
    );
  }
}
