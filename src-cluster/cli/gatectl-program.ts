// The `gatectl` program: each command family registers itself (one register call per family),
// and runProgram gives every command the same usage errors and exit codes as `gate`.
import type { Command } from 'commander';
import { createProgram, runProgram, type CliOutput } from '../../src-shared/cli/program.ts';
import { addAdminTargetOptions } from './admin-client.ts';
import { registerAuditCommand } from './audit-command.ts';
import { registerClusterCommands } from './cluster-commands.ts';
import { registerDeviceCommands } from './device-commands.ts';
import { registerLockCommand } from './lock-commands.ts';
import { registerResourceCommands } from './resource-commands.ts';
import { registerTokenCommands } from './token-commands.ts';
import { registerUserCommands } from './user-commands.ts';

export function gatectlProgram(): Command {
  const program = createProgram(
    'gatectl',
    'Gatehouse admin CLI: resources, users, devices, locks, join tokens and audit.',
  ).addHelpText(
    'after',
    '\nThe cluster is found through the admin identity of a local "gatehouse start" (--data-dir or\n' +
      '$GATEHOUSE_DATA_DIR), or --identity FILE on another host; every command takes these options.',
  );
  addAdminTargetOptions(program);
  registerUserCommands(program);
  registerDeviceCommands(program);
  registerLockCommand(program);
  registerAuditCommand(program);
  registerResourceCommands(program, async () => (await import('../resources/index.ts')).createDefaultRegistry());
  registerClusterCommands(program);
  registerTokenCommands(program);
  return program;
}

/** Runs one `gatectl` invocation; resolves to the exit code. */
export function runGatectl(argv: string[], out: CliOutput): Promise<number> {
  return runProgram(gatectlProgram(), argv, out, { debug: Boolean(process.env.GATEHOUSE_DEBUG) });
}
