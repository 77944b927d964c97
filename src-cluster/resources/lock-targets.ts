// What a lock can target. Apart from lock.ts (the kind's schema, zod) so that `gatectl lock`
// can declare and check its options without loading the schemas.
// db, app and kube_cluster name a resource of that kind (as node names a node): each kind's
// matcher in src-cluster/authz/matchers/ offers its resource as a lock target.
export const LOCK_TARGET_KINDS = ['user', 'role', 'login', 'node', 'device', 'db', 'app', 'kube_cluster'] as const;
export type LockTargetKind = (typeof LOCK_TARGET_KINDS)[number];
