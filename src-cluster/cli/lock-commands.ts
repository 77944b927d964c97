// `gatectl lock ...` and the lock table of `gatectl get locks`. Locks go through the generic
// resource API: the server makes the name, records who created it and checks device targets.
import type { Command } from 'commander';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { LockResource } from '../resources/lock.ts';
import { LOCK_TARGET_KINDS } from '../resources/lock-targets.ts';
import { durationProblem, parseDurationMs } from '../resources/duration.ts';
import { onAction } from '../../src-shared/cli/program.ts';
import { addAdminTargetOptions, adminClient, adminTargetOf, type AuthClient } from './admin-client.ts';
import { printTable } from './cli-util.ts';

const USAGE =
  'usage: gatectl lock --device=ID | --user=NAME | --role=NAME | --login=NAME | --node=NAME ' +
  '| --db=NAME | --app=NAME | --kube_cluster=NAME ' +
  '[--ttl=12h | --expires=RFC3339] [--message=TEXT]';

type Options = Partial<Record<(typeof LOCK_TARGET_KINDS)[number] | 'ttl' | 'expires' | 'message', string>>;

/** The document `gatectl lock` sends (no name, no creator: the server fills those). */
export function lockDocument(values: Options, now: Date = new Date()): Record<string, unknown> {
  const given = LOCK_TARGET_KINDS.filter((k) => values[k] !== undefined);
  if (given.length !== 1) throw new GatehouseError(ErrorCode.BAD_REQUEST, `${USAGE}\n(give exactly one target)`);
  const kind = given[0]!;
  const value = values[kind]!;
  if (value === '') throw new GatehouseError(ErrorCode.BAD_REQUEST, `--${kind} needs a value`);
  if (values.ttl !== undefined && values.expires !== undefined) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'give --ttl or --expires, not both');
  }
  const spec: Record<string, unknown> = { target: { [kind]: value } };
  if (values.message) spec['message'] = values.message;
  if (values.ttl !== undefined) {
    const problem = durationProblem(values.ttl);
    if (problem) throw new GatehouseError(ErrorCode.BAD_REQUEST, `--ttl: ${problem}`);
    spec['expires'] = new Date(now.getTime() + parseDurationMs(values.ttl)).toISOString();
  } else if (values.expires !== undefined) {
    const at = Date.parse(values.expires);
    if (Number.isNaN(at)) {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `--expires: "${values.expires}" is not an RFC 3339 time such as 2026-01-02T03:04:05Z`,
      );
    }
    spec['expires'] = new Date(at).toISOString();
  }
  return { kind: 'lock', version: 'v2', metadata: {}, spec };
}

const LOCK_DESCRIPTION = `Locks a target out: new access and certificates are refused and matching live sessions are
closed. Give exactly one target. "gatectl get locks" lists the locks; "gatectl rm lock/NAME"
lifts one.`;

export function registerLockCommand(program: Command): void {
  const lock = program
    .command('lock')
    .summary('lock a user, role, login, node, database, app or device out')
    .description(LOCK_DESCRIPTION)
    .usage(
      '--device=ID | --user=NAME | --role=NAME | --login=NAME | --node=NAME | --db=NAME | --app=NAME [--ttl=12h | --expires=RFC3339] [--message=TEXT]',
    )
    .option('--user <NAME>', 'lock this user')
    .option('--role <NAME>', 'lock everyone with this role')
    .option('--login <NAME>', 'lock this OS login on every node')
    .option('--node <NAME>', 'lock access to this node')
    .option('--device <ID>', 'lock this device (its trusted certificates)')
    .option('--db <NAME>', 'lock access to this database')
    .option('--app <NAME>', 'lock access to this app (open WebSockets and TCP streams are closed)')
    .option('--ttl <DURATION>', 'lift the lock after this long (e.g. 12h)')
    .option('--expires <RFC3339>', 'lift the lock at this time')
    .option('--message <TEXT>', 'shown to whoever is locked out');
  addAdminTargetOptions(lock);
  onAction(lock, async (cmd) => {
    const doc = lockDocument(cmd.opts<Options>());
    const client = adminClient(adminTargetOf(cmd));
    const res = await client.createResource({ resourceJson: JSON.stringify(doc), upsert: false });
    const created = JSON.parse(res.resourceJson) as LockResource;
    process.stdout.write(`Created a lock with name "${created.metadata.name}".\n`);
  });
}

/** `gatectl get locks` without --format: a table people can read at a glance. */
export async function printLocks(client: AuthClient): Promise<void> {
  const res = await client.listResources({ kind: 'lock' });
  const { describeLockTarget } = await import('../resources/lock.ts');
  const locks = res.resourcesJson.map((j) => JSON.parse(j) as LockResource);
  locks.sort((a, b) => a.spec.created_at.localeCompare(b.spec.created_at));
  printTable(
    ['ID', 'Target', 'Expires', 'Message', 'Created By'],
    locks.map((l) => [
      l.metadata.name,
      describeLockTarget(l.spec),
      l.spec.expires ?? 'never',
      l.spec.message ?? '',
      l.spec.created_by,
    ]),
  );
}
