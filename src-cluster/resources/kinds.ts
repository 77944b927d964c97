// The kinds a stock cluster knows. Services that add kinds (devices, locks, cluster auth
// preference) call registerKind on the registry they were handed, after this.
import { createRegistry, type KindRegistry, type Resource } from './registry.ts';
import { deviceKind, type DeviceResource } from './device.ts';
import { clusterAuthPreferenceKind, type ClusterAuthPreferenceResource } from './cluster-auth-preference.ts';
import { roleKind, type RoleResource } from './role.ts';
import { userKind, type UserResource } from './user.ts';
import { lockKind, type LockResource } from './lock.ts';
import { databaseKind, type DatabaseResource } from './database.ts';
import { appKind, type AppResource } from './app.ts';

export function createDefaultRegistry(): KindRegistry {
  const registry = createRegistry();
  registry.registerKind(roleKind);
  registry.registerKind(userKind);
  registry.registerKind(deviceKind);
  registry.registerKind(clusterAuthPreferenceKind);
  registry.registerKind(lockKind);
  registry.registerKind(databaseKind);
  registry.registerKind(appKind);
  return registry;
}

// Narrowing for resources that came out of a registry as the common Resource type. The kind
// string is enough because only the registered schema can have produced a resource of it.
export function isRole(resource: Resource): resource is Resource & RoleResource {
  return resource.kind === 'role';
}

export function isUser(resource: Resource): resource is Resource & UserResource {
  return resource.kind === 'user';
}

export function isDevice(resource: Resource): resource is Resource & DeviceResource {
  return resource.kind === 'device';
}

export function isClusterAuthPreference(resource: Resource): resource is Resource & ClusterAuthPreferenceResource {
  return resource.kind === 'cluster_auth_preference';
}

export function isLock(resource: Resource): resource is Resource & LockResource {
  return resource.kind === 'lock';
}

export function isDatabase(resource: Resource): resource is Resource & DatabaseResource {
  return resource.kind === 'db';
}

export function isApp(resource: Resource): resource is Resource & AppResource {
  return resource.kind === 'app';
}
