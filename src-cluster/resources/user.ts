// `kind: user` — who someone is to the cluster: roles and traits. Password hashes and OTP
// secrets are deliberately not part of this resource; the auth service keeps them in its own
// credentials record, so printing, exporting or editing a user can never leak them.
import { z } from 'zod';
import { resourceName, strictFields, stringList, wrongType } from './fields.ts';
import type { KindDefinition } from './registry.ts';
import { loginProblem } from './role.ts';
import { validateKind } from './validate.ts';

export interface UserTraits {
  /** Expanded into roles' `{{internal.logins}}`. */
  logins?: string[];
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

const traitLogins = stringList().superRefine((logins, ctx) => {
  logins.forEach((login, i) => {
    const problem = loginProblem(login);
    if (problem) ctx.addIssue({ code: 'custom', path: [i], message: problem, input: login });
  });
});

export const userSchema: z.ZodType<UserResource> = strictFields({
  kind: z.literal('user'),
  version: z.literal('v2'),
  metadata: strictFields({ name: resourceName }),
  spec: strictFields({
    roles: roleNames,
    traits: strictFields({ logins: traitLogins.optional() }).optional(),
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

export function userTraits(user: UserResource): UserTraits {
  return { logins: [...(user.spec.traits?.logins ?? [])] };
}
