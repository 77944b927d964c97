// `gatectl tokens add|ls|rm`: join tokens for new services. `add` prints the secret once with
// the exact command that joins a service with it; `ls` never shows secrets.
import type { Command } from 'commander';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { onAction } from '../../src-shared/cli/program.ts';
import { durationProblem, parseDurationMs } from '../resources/duration.ts';
import {
  addAdminTargetOptions,
  adminAddress,
  adminClient,
  adminServiceClient,
  adminTargetOf,
  type AuthClient,
  type JoinTokenClient,
} from './admin-client.ts';
import { printTable } from './cli-util.ts';

const loadJoinTokenService = async () => (await import('../../proto/gen/gatehouse/v1/cluster_pb.ts')).JoinTokenService;

const isoOf = (unix: bigint) => (unix > 0n ? new Date(Number(unix) * 1000).toISOString() : 'never');

/**
 * The command a new service runs to join with `token`. With the pin of the cluster's TLS host CA
 * the service checks whom it talks to before it sends the token, instead of trusting on first use.
 */
export function joinCommandLine(roles: readonly string[], authAddress: string, token: string, caPin?: string): string {
  const pin = caPin ? ` --ca-pin ${caPin}` : '';
  return `gatehouse start --roles=${roles.join(',')} --auth-server ${authAddress}${pin} --token ${token}`;
}

/** The fingerprint of the TLS host CA, as `gatectl status` shows it (`SHA256:HEX`). */
async function hostCaPin(client: AuthClient): Promise<string | undefined> {
  const status = await client.getClusterStatus({});
  return status.certAuthorities.find((c) => c.type === 'tls_host')?.fingerprint;
}

interface AddOptions {
  type?: string;
  /** docs/app-access.md writes `--roles app`; the same as --type. */
  roles?: string;
  ttl?: string;
  multiUse?: boolean;
}

async function addToken(
  client: JoinTokenClient,
  auth: AuthClient,
  authAddress: string,
  opts: AddOptions,
): Promise<void> {
  let ttlSeconds = 0n;
  if (opts.ttl !== undefined) {
    const problem = durationProblem(opts.ttl);
    if (problem) throw new GatehouseError(ErrorCode.BAD_REQUEST, `--ttl: ${problem}`);
    ttlSeconds = BigInt(Math.ceil(parseDurationMs(opts.ttl) / 1000));
  }
  if (opts.type !== undefined && opts.roles !== undefined && opts.type !== opts.roles) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, '--type and --roles name the same thing; give one of them');
  }
  const list = opts.type ?? opts.roles;
  if (list === undefined) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'name the roles with --type (or --roles)');
  const roles = list.split(',').map((r) => r.trim());
  const res = await client.createJoinToken({ roles, ttlSeconds, multiUse: opts.multiUse ?? false });
  const info = res.info!;
  const caPin = await hostCaPin(auth);
  const use = info.singleUse ? 'single use' : 'multi use until it expires';
  process.stdout.write(
    `The join token: ${res.token}\n` +
      `Roles: ${info.roles.join(',')}; expires ${isoOf(info.expiresUnix)}; ${use}; id ${info.id}\n\n` +
      `Run this on the new server to join it to the cluster:\n\n` +
      `  ${joinCommandLine(info.roles, authAddress, res.token, caPin)}\n`,
  );
}

async function listTokens(client: JoinTokenClient): Promise<void> {
  const res = await client.listJoinTokens({});
  printTable(
    ['ID', 'Roles', 'Expires', 'Type', 'Uses', 'Created By'],
    res.tokens.map((t) => [
      t.id,
      t.roles.join(','),
      isoOf(t.expiresUnix),
      t.singleUse ? 'single-use' : 'multi-use',
      String(t.uses),
      t.createdBy,
    ]),
  );
}

export function registerTokenCommands(program: Command): void {
  const client = (cmd: Command) => adminServiceClient(adminTargetOf(cmd), loadJoinTokenService);
  const tokens = program.command('tokens').summary('join tokens for new services (proxy, node, db, app)');

  const add = tokens
    .command('add')
    .summary('a join token and the command that joins a service with it')
    .option('--type <ROLES>', 'the roles it allows: node, proxy, db, app (comma-separated)')
    .option('--roles <ROLES>', 'the same as --type')
    .option('--ttl <DURATION>', 'how long it is valid (default 30m, at most 168h)')
    .option('--multi-use', 'usable until it expires (default: spent by the first join)');
  addAdminTargetOptions(add);
  onAction(add, (cmd) =>
    addToken(client(cmd), adminClient(adminTargetOf(cmd)), adminAddress(adminTargetOf(cmd)), cmd.opts<AddOptions>()),
  );

  const ls = tokens.command('ls').summary('join tokens that can still be used (never the secrets)');
  addAdminTargetOptions(ls);
  onAction(ls, (cmd) => listTokens(client(cmd)));

  const rm = tokens.command('rm').summary('revoke a join token').argument('<ID>', 'the token id `tokens ls` shows');
  addAdminTargetOptions(rm);
  onAction(rm, async (cmd) => {
    const id = cmd.processedArgs[0] as string;
    await client(cmd).deleteJoinToken({ id });
    process.stdout.write(`join token ${id} has been removed\n`);
  });
}
