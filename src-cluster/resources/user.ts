// `kind: user` — who someone is to the cluster: roles and traits. Password hashes and OTP
// secrets are deliberately not part of this resource; the auth service keeps them in its own
// credentials record, so printing, exporting or editing a user can never leak them.
import { z } from 'zod';
import { resourceName, strictFields, stringList, wrongType } from './fields.ts';
import type { KindDefinition } from './registry.ts';
import { PRINCIPAL_FIELDS, PRINCIPAL_RULES, type PrincipalField } from './role-principals.ts';
import { validateKind } from './validate.ts';

/** Each trait is expanded into the role field of the same name (`{{internal.<trait>}}`). */
export interface UserTraits {
  logins?: string[];
  db_users?: string[];
  db_names?: string[];
  kubernetes_groups?: string[];
  kubernetes_users?: string[];
}

export interface UserSpec {
  roles: string[];
  traits?: UserTraits;
  /** Machine identities (CI, automation); policies such as device trust may treat them differently. */
  is_bot?: boolean;
}

export interface UserResource {
  kind: 'user';
  version: 'v2';
  metadata: { name: string };
  spec: UserSpec;
}

const roleNames = z.array(resourceName, wrongType('expected a list of role names'));

// Trait values are concrete: never a template, never the "*" a role may use.
function traitValues(field: PrincipalField) {
  return stringList().superRefine((values, ctx) => {
    values.forEach((value, i) => {
      const problem = PRINCIPAL_RULES[field].problem(value);
      if (problem) ctx.addIssue({ code: 'custom', path: [i], message: problem, input: value });
    });
  });
}

export const userSchema: z.ZodType<UserResource> = strictFields({
  kind: z.literal('user'),
  version: z.literal('v2'),
  metadata: strictFields({ name: resourceName }),
  spec: strictFields({
    roles: roleNames,
    traits: strictFields({
      logins: traitValues('logins').optional(),
      db_users: traitValues('db_users').optional(),
      db_names: traitValues('db_names').optional(),
      kubernetes_groups: traitValues('kubernetes_groups').optional(),
      kubernetes_users: traitValues('kubernetes_users').optional(),
    }).optional(),
    is_bot: z.boolean(wrongType('expected true or false')).optional(),
  }),
});

export const userKind: KindDefinition<UserResource> = {
  kind: 'user',
  versions: ['v2'],
  schema: userSchema,
  description: 'a person or bot: roles and traits (credentials are stored separately)',
  aliases: ['users'],
  columns: [
    { header: 'ROLES', value: (u) => u.spec.roles.join(',') },
    { header: 'LOGINS', value: (u) => (u.spec.traits?.logins ?? []).join(',') },
    { header: 'BOT', value: (u) => (u.spec.is_bot ? 'yes' : '') },
  ],
};

export interface NewUserOptions {
  name: string;
  roles: string[];
  logins?: string[];
  isBot?: boolean;
}

/** Builds and validates a user in code (e.g. `gatectl users add`); throws INVALID_RESOURCE. */
export function newUser(options: NewUserOptions): UserResource {
  const spec: Record<string, unknown> = { roles: options.roles };
  if (options.logins !== undefined) spec['traits'] = { logins: options.logins };
  if (options.isBot !== undefined) spec['is_bot'] = options.isBot;
  return validateKind(userKind, { kind: 'user', version: 'v2', metadata: { name: options.name }, spec });
}

/** A copy of the user's traits (every field present, possibly empty), safe to mutate. */
export function userTraits(user: UserResource): Required<UserTraits> {
  const traits = {} as Required<UserTraits>;
  for (const field of PRINCIPAL_FIELDS) traits[field] = [...(user.spec.traits?.[field] ?? [])];
  return traits;
}
