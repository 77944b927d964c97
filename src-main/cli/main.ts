// `gate`: one commander program whose command families register themselves (families/*.ts);
// every failure becomes "ERROR: <message>" with the exit code of its error code (exitCodeFor),
// and usage errors exit 2, so scripts can branch (see src-shared/cli/program.ts).
import type { Command } from 'commander';
import { createProgram, runProgram } from '../../src-shared/cli/program.ts';
import { createCore, type ContextFactory } from './context.ts';
import { registerAppCommands } from './families/apps.ts';
import { registerDatabaseCommands } from './families/databases.ts';
import { registerDeviceCommands } from './families/device.ts';
import { registerNodeCommands } from './families/nodes.ts';
import { registerSessionCommands } from './families/session.ts';
import type { CliIo } from './io.ts';
import { clientVersion } from '../core/version.ts';

/** The `gate` program; a new command family is one more register call here. */
export function gateProgram(context: ContextFactory): Command {
  const program = createProgram(
    'gate',
    'Gatehouse user CLI: log in to a cluster and reach its nodes, databases and apps.',
  )
    .version(`gate ${clientVersion()}`, '-v, --version', 'print the version')
    .addHelpText('after', '\nEnvironment: GATEHOUSE_HOME (default ~/.gatehouse) holds logins and pinned proxy CAs.');
  registerSessionCommands(program, context);
  registerNodeCommands(program, context);
  registerDatabaseCommands(program, context);
  registerAppCommands(program, context);
  registerDeviceCommands(program, context);
  return program;
}

/** Runs one `gate` invocation; resolves to the exit code. Never exits the process itself. */
export async function runGate(argv: string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  const program = gateProgram(async () => ({ env, io, core: await createCore(env) }));
  const output = { writeOut: (t: string) => io.stdout.write(t), writeErr: (t: string) => io.stderr.write(t) };
  return runProgram(program, argv, output, { debug: Boolean(env.GATEHOUSE_DEBUG) });
}
