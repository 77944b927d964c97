#!/usr/bin/env node
// Runs the bundled `gate` (dist/cli/gate.mjs); GATEHOUSE_FROM_SOURCE=1 runs src-main/cli/gate.ts
// through tsx instead. See bin/launch.mjs.
import { launch } from './launch.mjs';

await launch('gate', 'src-main/cli/gate.ts');
