// What every `gate` command gets: the environment, the terminal streams and the client core
// rooted in the Gatehouse home. Arguments are parsed by commander (see main.ts and families/)
// before a command runs; commands receive their options already typed.
import type { Command } from 'commander';
import { onAction } from '../../src-shared/cli/program.ts';
import { GatehouseClient } from '../core/gatehouse-client.ts';
import { resolveGatehouseHome } from '../core/files.ts';
import type { CliIo } from './io.ts';

export interface CommandContext {
  env: Record<string, string | undefined>;
  io: CliIo;
  core: GatehouseClient;
}

export function createCore(env: Record<string, string | undefined>): GatehouseClient {
  return new GatehouseClient({ home: resolveGatehouseHome(env), env });
}

/** Makes the context of the one command an invocation runs (the core is built only then). */
export type ContextFactory = () => CommandContext;

/**
 * Registers a `gate` command's action: `load` imports the command's module only when it runs,
 * because the network stacks cost a few hundred ms that `gate status` or `--help` should not pay.
 */
export function gateAction(
  cmd: Command,
  context: ContextFactory,
  load: () => Promise<(ctx: CommandContext, cmd: Command) => Promise<number>>,
): Command {
  return onAction(cmd, async (self) => (await load())(context(), self));
}
