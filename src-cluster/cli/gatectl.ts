// Entry point of `gatectl`, the admin CLI (bundled into dist/cli/gatectl.mjs, which
// bin/gatectl.mjs runs). Thin: the program in gatectl-program.ts parses, the command modules
// call the API and print.
import { processOutput } from '../../src-shared/cli/program.ts';
import { runGatectl } from './gatectl-program.ts';

process.exitCode = await runGatectl(process.argv.slice(2), processOutput());
