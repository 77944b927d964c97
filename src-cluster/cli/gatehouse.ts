// Entry point of `gatehouse`, the cluster daemon (bundled into dist/cli/gatehouse.mjs, which bin/gatehouse.mjs runs).
import { createProgram, onAction, processOutput, runProgram } from '../../src-shared/cli/program.ts';
import { VERSION } from '../daemon/version.ts';
import { registerMigrateCommand } from './migrate-command.ts';
import { registerStartCommands } from './start-command.ts';

/** The `gatehouse` program; a new command family is one more register call here. */
function gatehouseProgram() {
  const program = createProgram('gatehouse', 'Gatehouse cluster daemon.').version(
    `gatehouse ${VERSION}`,
    '-v, --version',
    'print the version',
  );
  registerStartCommands(program);
  registerMigrateCommand(program);
  onAction(program.command('version').description('print the version'), async () => {
    process.stdout.write(`gatehouse ${VERSION}\n`);
  });
  return program;
}

const code = await runProgram(gatehouseProgram(), process.argv.slice(2), processOutput(), {
  debug: Boolean(process.env.GATEHOUSE_DEBUG),
});
// A failure may leave listeners half started: exit rather than wait for them. On success the
// daemon keeps the process alive until a signal stops it.
if (code !== 0) process.exit(code);
