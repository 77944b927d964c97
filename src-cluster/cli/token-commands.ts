// `gatectl tokens add|ls|rm`: join tokens for new services. `add` prints the secret once with
// the exact command that joins a service with it; `ls` never shows secrets.
import { parseArgs } from 'node:util';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { durationProblem, parseDurationMs } from '../resources/duration.ts';
import type { JoinTokenClient } from './admin-client.ts';
import { printTable } from './cli-util.ts';

export const TOKENS_USAGE =
  'usage: gatectl tokens add --type=node[,proxy,db,app] [--ttl=30m] [--multi-use] | tokens ls | tokens rm ID';

const tokenOptions = {
  type: { type: 'string' },
  ttl: { type: 'string' },
  'multi-use': { type: 'boolean' },
} as const;

type GlobalOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export interface TokenCommandTarget {
  client: () => JoinTokenClient;
  /** HOST:PORT of the proxy gatectl talks to: where the new service reaches auth. */
  authAddress: () => string;
}

const isoOf = (unix: bigint) => (unix > 0n ? new Date(Number(unix) * 1000).toISOString() : 'never');

/** The command a new service runs to join with `token`. */
export function joinCommandLine(roles: readonly string[], authAddress: string, token: string): string {
  return `gatehouse start --roles=${roles.join(',')} --auth-server ${authAddress} --token ${token}`;
}

export async function tokensCommand(target: TokenCommandTarget, args: string[], globalOptions: GlobalOptions) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...globalOptions, ...tokenOptions },
  });
  const [sub, ...rest] = positionals;
  switch (sub) {
    case 'add': {
      if (rest.length > 0 || !values.type) throw new GatehouseError(ErrorCode.BAD_REQUEST, TOKENS_USAGE);
      let ttlSeconds = 0n;
      if (values.ttl !== undefined) {
        const problem = durationProblem(values.ttl);
        if (problem) throw new GatehouseError(ErrorCode.BAD_REQUEST, `--ttl: ${problem}`);
        ttlSeconds = BigInt(Math.ceil(parseDurationMs(values.ttl) / 1000));
      }
      const roles = values.type.split(',').map((r) => r.trim());
      const res = await target.client().createJoinToken({ roles, ttlSeconds, multiUse: values['multi-use'] ?? false });
      const info = res.info!;
      process.stdout.write(
        `The join token: ${res.token}\n` +
          `Roles: ${info.roles.join(',')}; expires ${isoOf(info.expiresUnix)}; ${info.singleUse ? 'single use' : 'multi use until it expires'}; id ${info.id}\n\n` +
          `Run this on the new server to join it to the cluster:\n\n` +
          `  ${joinCommandLine(info.roles, target.authAddress(), res.token)}\n`,
      );
      return;
    }
    case 'ls': {
      if (rest.length > 0) throw new GatehouseError(ErrorCode.BAD_REQUEST, TOKENS_USAGE);
      const res = await target.client().listJoinTokens({});
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
      return;
    }
    case 'rm': {
      if (rest.length !== 1 || !rest[0]) throw new GatehouseError(ErrorCode.BAD_REQUEST, TOKENS_USAGE);
      await target.client().deleteJoinToken({ id: rest[0] });
      process.stdout.write(`join token ${rest[0]} has been removed\n`);
      return;
    }
    default:
      throw new GatehouseError(ErrorCode.BAD_REQUEST, TOKENS_USAGE);
  }
}
