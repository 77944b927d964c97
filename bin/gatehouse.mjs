#!/usr/bin/env node
// Runs the bundled `gatehouse` (dist/cli/gatehouse.mjs); GATEHOUSE_FROM_SOURCE=1 runs src-cluster/cli/gatehouse.ts
// through tsx instead. See bin/launch.mjs.
import { launch } from './launch.mjs';

await launch('gatehouse', 'src-cluster/cli/gatehouse.ts');
