// What every `gate` command gets: its arguments, the environment, the terminal streams and the
// client core rooted in the Gatehouse home.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { GatehouseClient } from '../core/gatehouse-client.ts';
import { resolveGatehouseHome } from '../core/files.ts';
import { print, type CliIo } from './io.ts';

export interface CommandContext {
  args: string[];
  env: Record<string, string | undefined>;
  io: CliIo;
  core: GatehouseClient;
}

export interface Command {
  name: string;
  usage: string;
  /** Resolves to the process exit code. */
  run(ctx: CommandContext): Promise<number>;
}

export function createCore(env: Record<string, string | undefined>): GatehouseClient {
  return new GatehouseClient({ home: resolveGatehouseHome(env), env });
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs with --help on every command and errors as BAD_REQUEST naming the command,
 * so `gate ls --bogus` exits 2 with "ERROR: gate ls: unknown option --bogus".
 */
export function parseCommandArgs<O extends Options>(
  cmd: Command,
  args: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `gate ${cmd.name}: ${msg}\n\n${cmd.usage.trimEnd()}`);
  }
}

export function showHelp(ctx: CommandContext, cmd: Command): number {
  print(ctx.io, cmd.usage.trimEnd());
  return 0;
}
