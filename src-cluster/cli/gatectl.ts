// Entry point of `gatectl`, the admin CLI (bundled into dist/cli/gatectl.mjs, which
// bin/gatectl.mjs runs). Thin: the program in gatectl-program.ts parses, the command modules
// call the API and print.
import { installLightHeaders } from '../../src-shared/cli/light-headers.ts';
import { processOutput } from '../../src-shared/cli/program.ts';
import { runGatectl } from './gatectl-program.ts';

// Before any RPC: Connect's global Headers would otherwise load undici (see light-headers.ts).
installLightHeaders();

process.exitCode = await runGatectl(process.argv.slice(2), processOutput());
