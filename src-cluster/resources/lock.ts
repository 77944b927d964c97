// `kind: lock` — an admin's order that one user, role, login, node, database, app, Kubernetes
// cluster or device gets no access
// until the lock is lifted or expires. The name is a server-made uuid (locks are not things
// people name), and created_by/created_at are filled by the server, never taken from the client.
import { z } from 'zod';
import { description, labels, strictFields, wrongType } from './fields.ts';
import type { KindDefinition } from './registry.ts';
import { LOCK_TARGET_KINDS, type LockTargetKind } from './lock-targets.ts';

export const LOCK_KIND = 'lock';
export { LOCK_TARGET_KINDS, type LockTargetKind };

/** Exactly one field is set. */
export type LockTargetSpec = Partial<Record<LockTargetKind, string>>;

export interface LockSpec {
  target: LockTargetSpec;
  message?: string;
  /** RFC 3339; after it the lock no longer applies (and storage drops it). */
  expires?: string;
  created_by: string;
  created_at: string;
}

export interface LockResource {
  kind: typeof LOCK_KIND;
  version: 'v2';
  metadata: { name: string; description?: string; labels?: Record<string, string>; expires?: string };
  spec: LockSpec;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const text = (what = 'a string') => z.string(wrongType(`expected ${what}`));
const time = text('an RFC 3339 time').refine((v) => !Number.isNaN(Date.parse(v)), {
  error: 'expected an RFC 3339 time such as 2026-01-02T03:04:05Z',
});
const targetValue = text().min(1, { error: 'a lock target must not be empty' });

const target = strictFields({
  user: targetValue.optional(),
  role: targetValue.optional(),
  login: targetValue.optional(),
  node: targetValue.optional(),
  device: targetValue.optional(),
  db: targetValue.optional(),
  app: targetValue.optional(),
  kube_cluster: targetValue.optional(),
}).superRefine((t, ctx) => {
  const set = LOCK_TARGET_KINDS.filter((k) => t[k] !== undefined);
  if (set.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: `a lock targets exactly one of: ${LOCK_TARGET_KINDS.join(', ')} (got ${set.length === 0 ? 'none' : set.join(', ')})`,
      input: t,
    });
  }
});

export const lockSchema: z.ZodType<LockResource> = strictFields({
  kind: z.literal(LOCK_KIND),
  version: z.literal('v2'),
  metadata: strictFields({
    name: text().regex(UUID, { error: 'a lock name is a lowercase uuid made by the server' }),
    description: description.optional(),
    labels: labels.optional(),
    // Mirrors spec.expires so storage drops the lock by itself; set by the server.
    expires: time.optional(),
  }),
  spec: strictFields({
    target,
    message: text().optional(),
    expires: time.optional(),
    created_by: text().min(1, { error: 'created_by must not be empty' }),
    created_at: time,
  }),
});

/** One thing an access attempt is, as a lock may name it (the user, a role, the node, ...). */
export interface LockTarget {
  kind: LockTargetKind;
  value: string;
}

/** The answer of a lock check; `message` is what the refused user sees. */
/** `target` names what the lock in force targets (`Device:<id>`), for callers that show it apart. */
export type LockCheck =
  { locked: false } | { locked: true; message: string; lockName?: string; target?: string; lockMessage?: string };

/**
 * What the authorizer asks before it grants anything. Declared with the lock resource so the
 * authorizer (below the lock service in the layers) needs only this contract; the lock service
 * implements it (src-cluster/locks/).
 */
export interface LockChecker {
  check(targets: readonly LockTarget[]): LockCheck;
}

/** The one target of a lock as [kind, value]. */
export function lockTarget(spec: Pick<LockSpec, 'target'>): [LockTargetKind, string] {
  for (const k of LOCK_TARGET_KINDS) {
    const v = spec.target[k];
    if (v !== undefined) return [k, v];
  }
  return ['user', ''];
}

const TARGET_WORDS: Record<LockTargetKind, string> = {
  user: 'User',
  role: 'Role',
  login: 'Login',
  node: 'Node',
  db: 'Database',
  app: 'App',
  kube_cluster: 'KubernetesCluster',
  device: 'Device',
};

/** `Device:"<id>"`, the way messages and tables name a target. */
export function describeLockTarget(spec: Pick<LockSpec, 'target'>): string {
  const [kind, value] = lockTarget(spec);
  return `${TARGET_WORDS[kind]}:${JSON.stringify(value)}`;
}

/** `Device:<id>`: the target as the API reports it (GetDeviceStatus lock_target), unquoted. */
export function lockTargetText(spec: Pick<LockSpec, 'target'>): string {
  const [kind, value] = lockTarget(spec);
  return `${TARGET_WORDS[kind]}:${value}`;
}

/** What a refused user sees: `lock targeting Device:"<id>" is in force[: <message>]`. */
export function lockMessage(spec: Pick<LockSpec, 'target' | 'message'>): string {
  const base = `lock targeting ${describeLockTarget(spec)} is in force`;
  return spec.message ? `${base}: ${spec.message}` : base;
}

export const lockKind: KindDefinition<LockResource> = {
  kind: LOCK_KIND,
  versions: ['v2'],
  schema: lockSchema,
  description:
    'cuts a user, role, login, node, database, app, Kubernetes cluster or device off until lifted or expired',
  aliases: ['locks'],
  columns: [
    { header: 'TARGET', value: (l) => describeLockTarget(l.spec) },
    { header: 'EXPIRES', value: (l) => l.spec.expires ?? 'never' },
    { header: 'MESSAGE', value: (l) => l.spec.message ?? '' },
    { header: 'CREATED BY', value: (l) => l.spec.created_by },
  ],
};
