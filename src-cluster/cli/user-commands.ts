// `gatectl users add|ls`: users with their roles and logins. A new user gets a one-time
// password-set token (or the password from stdin); `users ls` is the table view of the resources.
import type { Command } from 'commander';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { onAction } from '../../src-shared/cli/program.ts';
import type { newUser, Resource } from '../resources/index.ts';
import { addAdminTargetOptions, adminClient, adminTargetOf, type AuthClient } from './admin-client.ts';
import { printTable, readStdin } from './cli-util.ts';

type UserResource = Resource<'user', { roles: string[]; traits?: { logins?: string[] }; is_bot?: boolean }>;

interface AddUserOptions {
  roles: string;
  logins?: string;
  dbUsers?: string;
  dbNames?: string;
  passwordStdin?: boolean;
  bot?: boolean;
}

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

async function listUsers(client: AuthClient): Promise<void> {
  const res = await client.listResources({ kind: 'user' });
  const users = res.resourcesJson.map((j) => JSON.parse(j) as UserResource);
  printTable(
    ['User', 'Roles', 'Logins', 'Bot'],
    users.map((u) => [
      u.metadata.name,
      u.spec.roles.join(','),
      (u.spec.traits?.logins ?? []).join(','),
      u.spec.is_bot ? 'yes' : '',
    ]),
  );
}

/** The user with the db_users / db_names traits that `{{internal.db_users}}` / `{{internal.db_names}}` expand to. */
async function withDbTraits(user: ReturnType<typeof newUser>, dbUsers: string[], dbNames: string[]) {
  if (dbUsers.length === 0 && dbNames.length === 0) return user;
  const { userKind, validateKind } = await import('../resources/index.ts');
  const traits = {
    ...user.spec.traits,
    ...(dbUsers.length > 0 ? { db_users: dbUsers } : {}),
    ...(dbNames.length > 0 ? { db_names: dbNames } : {}),
  };
  return validateKind(userKind, { ...user, spec: { ...user.spec, traits } });
}

async function addUser(client: AuthClient, name: string, values: AddUserOptions): Promise<void> {
  const roles = list(values.roles);
  if (roles.length === 0)
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'users add needs --roles (e.g. --roles=access)');
  // The resource schemas (zod) load here, not with the program: `gatectl --help` skips them.
  const { newUser } = await import('../resources/index.ts');
  const user = await withDbTraits(
    newUser({ name, roles, logins: list(values.logins), ...(values.bot ? { isBot: true } : {}) }),
    list(values.dbUsers),
    list(values.dbNames),
  );
  const password = values.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : '';
  const res = await client.createUser({ userJson: JSON.stringify(user), password });
  if (password) {
    process.stdout.write(`User "${name}" has been created with a password.\n`);
  } else {
    const expires = new Date(Number(res.resetTokenExpiresUnix) * 1000).toISOString();
    process.stdout.write(
      `User "${name}" has been created but requires a password. Share this one-time token with them; it expires at ${expires}:\n\n  ${res.resetToken}\n\nThey set their password with (it asks for the token; keep it off command lines, where other users see it):\n  gate set-password --proxy <proxy address>\n`,
    );
  }
  if (res.otpUri)
    process.stdout.write(`\nOne-time password (TOTP) enrollment URI for an authenticator app:\n  ${res.otpUri}\n`);
}

export function registerUserCommands(program: Command): void {
  const users = program.command('users').summary('add and list users');

  const add = users
    .command('add')
    .summary('add a user; prints a one-time password-set token (or reads the password from stdin)')
    .description(
      'Adds a user with the given roles. Prints a one-time token with which the user sets their\n' +
        'password ("gate set-password"), unless --password-stdin gives the password.',
    )
    .argument('<NAME>', 'the user name')
    .requiredOption('--roles <a,b>', 'the roles, comma-separated (e.g. --roles=access)')
    .option('--logins <x,y>', 'the OS logins the user may use on nodes, comma-separated')
    .option('--db-users <x,y>', 'database users for roles with {{internal.db_users}}, comma-separated')
    .option('--db-names <x,y>', 'database names for roles with {{internal.db_names}}, comma-separated')
    .option('--password-stdin', 'read the password from standard input instead of printing a token')
    .option('--bot', 'a machine identity (exempt under device trust mode required-for-humans)');
  addAdminTargetOptions(add);
  onAction(add, (cmd) =>
    addUser(adminClient(adminTargetOf(cmd)), cmd.processedArgs[0] as string, cmd.opts<AddUserOptions>()),
  );

  const ls = users.command('ls').summary('list users');
  addAdminTargetOptions(ls);
  onAction(ls, (cmd) => listUsers(adminClient(adminTargetOf(cmd))));
}
