#!/usr/bin/env node
// Runs the bundled `gatectl` (dist/cli/gatectl.mjs); GATEHOUSE_FROM_SOURCE=1 runs src-cluster/cli/gatectl.ts
// through tsx instead. See bin/launch.mjs.
import { launch } from './launch.mjs';

await launch('gatectl', 'src-cluster/cli/gatectl.ts');
