// Entry point of the `gate` CLI (bundled into dist/cli/gate.mjs, which bin/gate.mjs runs).
import { runGate } from './main.ts';
import { processIo } from './io.ts';
import { tuneGcForStreaming } from '../../src-shared/stream-gc.ts';
import { installLightHeaders } from '../../src-shared/cli/light-headers.ts';
import { endOnClosedOutput, exitWhenFlushed } from '../../src-shared/cli/closed-output.ts';

// `gate ssh` and the tunnels move bulk data: Buffers that die young must not drive full GCs.
tuneGcForStreaming();
// `gate … | head`: a closed reader ends the command as it ends coreutils (see closed-output.ts).
endOnClosedOutput();
// Before any RPC: Connect's global Headers would otherwise load undici (see light-headers.ts).
installLightHeaders();

const code = await runGate(process.argv.slice(2), process.env, processIo());
// Exit once our output is flushed: an idle HTTP/2 or stdin handle must not keep `gate` alive.
exitWhenFlushed(code);
