// What every `gate` command gets: the environment, the terminal streams and the client core
// rooted in the Gatehouse home. Arguments are parsed by commander (see main.ts and families/)
// before a command runs; commands receive their options already typed.
import type { Command } from 'commander';
import { onAction } from '../../src-shared/cli/program.ts';
import type { GatehouseClient } from '../core/gatehouse-client.ts';
import type { CliIo } from './io.ts';

export interface CommandContext {
  env: Record<string, string | undefined>;
  io: CliIo;
  core: GatehouseClient;
}

/**
 * The client core, imported only when a command runs: it pulls in zod, TLS and the stores, which
 * `gate --version` and `--help` must not pay for (see bench/cli-startup.ts).
 */
export async function createCore(env: Record<string, string | undefined>): Promise<GatehouseClient> {
  const [{ GatehouseClient }, { resolveGatehouseHome }] = await Promise.all([
    import('../core/gatehouse-client.ts'),
    import('../core/files.ts'),
  ]);
  return new GatehouseClient({ home: resolveGatehouseHome(env), env });
}

/** Makes the context of the one command an invocation runs (the core is built only then). */
export type ContextFactory = () => Promise<CommandContext>;

/**
 * Registers a `gate` command's action: `load` imports the command's module only when it runs,
 * because the network stacks cost a few hundred ms that `gate status` or `--help` should not pay.
 */
export function gateAction(
  cmd: Command,
  context: ContextFactory,
  load: () => Promise<(ctx: CommandContext, cmd: Command) => Promise<number>>,
): Command {
  return onAction(cmd, async (self) => (await load())(await context(), self));
}
