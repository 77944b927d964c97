// Entry point of `gatectl`, the admin CLI (bundled into dist/cli/gatectl.mjs, which
// bin/gatectl.mjs runs). Thin: the program in gatectl-program.ts parses, the command modules
// call the API and print.
import { installLightHeaders } from '../../src-shared/cli/light-headers.ts';
import { endOnClosedOutput, exitWhenFlushed } from '../../src-shared/cli/closed-output.ts';
import { processOutput } from '../../src-shared/cli/program.ts';
import { runGatectl } from './gatectl-program.ts';

// `gatectl … | head`: a closed reader ends the command as it ends coreutils (see closed-output.ts).
endOnClosedOutput();
// Before any RPC: Connect's global Headers would otherwise load undici (see light-headers.ts).
installLightHeaders();

const code = await runGatectl(process.argv.slice(2), processOutput());
// Exit once our output is flushed, as gate does: not after the HTTP/2 session's teardown and the
// garbage collection V8 would finish first (~25 ms of CPU after listing 10,000 devices).
exitWhenFlushed(code);
