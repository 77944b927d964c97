// `kind: role` — what a user may do: which nodes, databases, apps and Kubernetes clusters, as
// which principals, which admin verbs on which resource kinds, and how long a session may last.
// Compilation lives in role-set.ts; the per-kind decision in src-cluster/authz/.
import { z } from 'zod';
import { ROLE_DEVICE_TRUST_MODES, type RoleDeviceTrustMode } from './device-trust-modes.ts';
import { durationProblem } from './duration.ts';
export { loginProblem } from './role-principals.ts';
import {
  description,
  guardedRecord,
  labelKeyProblem,
  labels,
  resourceName,
  strictFields,
  wrongType,
} from './fields.ts';
import type { LabelSelector } from './labels.ts';
import {
  principalEntryProblem,
  principalTemplateTrait,
  type LabelField,
  type PrincipalField,
} from './role-principals.ts';
import type { KindDefinition } from './registry.ts';
import { validateKind } from './validate.ts';

export const ROLE_VERBS = ['list', 'read', 'create', 'update', 'delete'] as const;
export type RoleVerb = (typeof ROLE_VERBS)[number];

export interface RoleRule {
  /** Resource kinds (`role`, `user`, ...) or `'*'`. */
  resources: string[];
  verbs: Array<RoleVerb | '*'>;
}

export interface RoleConditions {
  /** Logins (unix users) or templates such as `{{internal.logins}}`. */
  logins?: string[];
  node_labels?: LabelSelector;
  /** Databases this section grants or refuses, by label; with db_users / db_names. */
  db_labels?: LabelSelector;
  /** Database users (or `{{internal.db_users}}`, or `*` for any). */
  db_users?: string[];
  /** Database names within a database (or `{{internal.db_names}}`, or `*` for any). */
  db_names?: string[];
  /** Web apps this section grants or refuses, by label. */
  app_labels?: LabelSelector;
  /** Kubernetes clusters this section grants or refuses, by label; with the groups/users below. */
  kubernetes_labels?: LabelSelector;
  /** Kubernetes groups to impersonate (or `{{internal.kubernetes_groups}}`). */
  kubernetes_groups?: string[];
  /** Kubernetes users to impersonate (or `{{internal.kubernetes_users}}`). */
  kubernetes_users?: string[];
  rules?: RoleRule[];
}

export interface RoleOptions {
  /** Duration string ("8h", "1h30m"); parse with parseDurationMs. */
  max_session_ttl?: string;
  /** Raises the cluster's device trust mode for what this role grants; the strictest role wins. */
  device_trust_mode?: RoleDeviceTrustMode;
  /** Session channels one SSH connection may hold open (OpenSSH's MaxSessions); the lowest role wins. */
  max_sessions?: number;
  /** Close live SSH sessions when the certificate they logged in with expires; any role turns it on. */
  disconnect_expired_cert?: boolean;
  /** Issue `permit-port-forwarding` in the SSH certificate; any role turns it on. Default off. */
  port_forwarding?: boolean;
  /** Issue `permit-agent-forwarding` in the SSH certificate; any role turns it on. Default off. */
  forward_agent?: boolean;
}

/** OpenSSH's MaxSessions default: session channels per connection when no role sets max_sessions. */
export const DEFAULT_MAX_SESSIONS = 10;
/** Upper bound for max_sessions: each session may be a process on the node. */
export const MAX_SESSIONS_LIMIT = 1000;

export interface RoleSpec {
  allow?: RoleConditions;
  deny?: RoleConditions;
  options?: RoleOptions;
}

export interface RoleResource {
  kind: 'role';
  version: 'v7';
  metadata: { name: string; description?: string; labels?: Record<string, string> };
  spec: RoleSpec;
}

/** The template `logins` accepts, and the trait it expands to. */
export const LOGIN_TEMPLATES: Readonly<Record<string, 'logins'>> = { 'internal.logins': 'logins' };

/** The trait a template refers to, undefined when `entry` is a plain login. Throws nothing. */
export function loginTemplateTrait(entry: string): 'logins' | undefined {
  return principalTemplateTrait('logins', entry) as 'logins' | undefined;
}

function principalList(field: PrincipalField) {
  const entry = z.string(wrongType('expected a string')).superRefine((value, ctx) => {
    const problem = principalEntryProblem(field, value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
  });
  return z.array(entry, wrongType('expected a list of strings'));
}

const selectorValue = z.union([z.string(), z.array(z.string())], { error: 'expected a string or a list of strings' });

function labelSelector(field: LabelField, noun: string) {
  return guardedRecord(
    z
      .record(z.string(), selectorValue, wrongType('expected a mapping of label names to values'))
      .superRefine((selector, ctx) => {
        for (const [key, value] of Object.entries(selector)) {
          const values = typeof value === 'string' ? [value] : value;
          if (key === '*') {
            if (values.length !== 1 || values[0] !== '*') {
              ctx.addIssue({
                code: 'custom',
                path: [key],
                message: `the "*" key only works as '*': '*' (every ${noun}); to match any value of one label write '<label>': '*'`,
                input: value,
              });
            }
            continue;
          }
          const keyProblem = labelKeyProblem(key);
          if (keyProblem) ctx.addIssue({ code: 'custom', path: [key], message: keyProblem, input: key });
          if (values.some((v) => v.includes('{{'))) {
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: `templates are not supported in ${field}`,
              input: value,
            });
          }
        }
      }),
  );
}

const resourceKindName = z
  .string(wrongType('expected a string'))
  .regex(/^(\*|[a-z][a-z0-9_]*)$/, { message: 'expected a resource kind such as "role" or "user", or "*"' });

const rule = strictFields({
  resources: z.array(resourceKindName, wrongType('expected a list of resource kinds')).min(1),
  verbs: z
    .array(z.enum([...ROLE_VERBS, '*']), wrongType(`expected a list of verbs (${ROLE_VERBS.join(', ')}, *)`))
    .min(1),
});

const conditions = strictFields({
  logins: principalList('logins').optional(),
  node_labels: labelSelector('node_labels', 'node').optional(),
  db_labels: labelSelector('db_labels', 'database').optional(),
  db_users: principalList('db_users').optional(),
  db_names: principalList('db_names').optional(),
  app_labels: labelSelector('app_labels', 'app').optional(),
  kubernetes_labels: labelSelector('kubernetes_labels', 'Kubernetes cluster').optional(),
  kubernetes_groups: principalList('kubernetes_groups').optional(),
  kubernetes_users: principalList('kubernetes_users').optional(),
  rules: z.array(rule, wrongType('expected a list of rules, each with resources and verbs')).optional(),
});

const maxSessionTtl = z.string(wrongType('expected a duration such as "8h" or "1h30m"')).superRefine((text, ctx) => {
  const problem = durationProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: text });
});

export const roleSchema: z.ZodType<RoleResource> = strictFields({
  kind: z.literal('role'),
  version: z.literal('v7'),
  metadata: strictFields({
    name: resourceName,
    description: description.optional(),
    labels: labels.optional(),
  }),
  spec: strictFields({
    allow: conditions.optional(),
    deny: conditions.optional(),
    options: strictFields({
      max_session_ttl: maxSessionTtl.optional(),
      device_trust_mode: z
        .enum(ROLE_DEVICE_TRUST_MODES, { error: () => `expected one of: ${ROLE_DEVICE_TRUST_MODES.join(', ')}` })
        .optional(),
      max_sessions: z
        .number(wrongType(`expected a whole number from 1 to ${MAX_SESSIONS_LIMIT}`))
        .int({ message: `expected a whole number from 1 to ${MAX_SESSIONS_LIMIT}` })
        .min(1, { message: `expected a whole number from 1 to ${MAX_SESSIONS_LIMIT}` })
        .max(MAX_SESSIONS_LIMIT, { message: `expected a whole number from 1 to ${MAX_SESSIONS_LIMIT}` })
        .optional(),
      disconnect_expired_cert: z.boolean(wrongType('expected true or false')).optional(),
      port_forwarding: z.boolean(wrongType('expected true or false')).optional(),
      forward_agent: z.boolean(wrongType('expected true or false')).optional(),
    }).optional(),
  }),
});

function showSelector(selector: LabelSelector | undefined): string {
  if (!selector) return '';
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : v.join('|')}`)
    .join(',');
}

export const roleKind: KindDefinition<RoleResource> = {
  kind: 'role',
  versions: ['v7'],
  schema: roleSchema,
  description: 'what users may access: node logins and labels, admin rules, session limits',
  aliases: ['roles'],
  columns: [
    { header: 'LOGINS', value: (r) => (r.spec.allow?.logins ?? []).join(',') },
    { header: 'NODE LABELS', value: (r) => showSelector(r.spec.allow?.node_labels) },
    { header: 'DESCRIPTION', value: (r) => r.metadata.description ?? '' },
  ],
};

/** Builds and validates a role in code; throws INVALID_RESOURCE like parsed input would. */
export function newRole(name: string, spec: RoleSpec, description?: string): RoleResource {
  const metadata = description === undefined ? { name } : { name, description };
  return validateKind(roleKind, { kind: 'role', version: 'v7', metadata, spec });
}

export const REQUIRE_TRUSTED_DEVICE_ROLE = 'require-trusted-device';

/** Built-in roles every cluster starts with. Fresh objects each call, so callers may mutate. */
export function presetRoles(): RoleResource[] {
  return [
    newRole(
      'access',
      { allow: { logins: ['{{internal.logins}}'], node_labels: { '*': '*' } } },
      "log in to every node with the user's own logins (traits.logins)",
    ),
    newRole(
      'editor',
      { allow: { rules: [{ resources: ['*'], verbs: ['*'] }] } },
      'list, read, create, update and delete every resource kind; grants no node logins',
    ),
    newRole(
      REQUIRE_TRUSTED_DEVICE_ROLE,
      {
        allow: { logins: ['{{internal.logins}}'], node_labels: { '*': '*' } },
        options: { device_trust_mode: 'required' },
      },
      'node access that needs a trusted (enrolled and authenticated) device; narrow allow to the nodes that need it',
    ),
  ];
}
