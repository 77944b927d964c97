// How tests run `gate`, `gatectl` and `gatehouse`: from their TypeScript sources through tsx (what
// bin/*.mjs does with GATEHOUSE_FROM_SOURCE=1), so a test always runs the code it is testing and
// never a dist/cli bundle built before the last edit. scripts/integration/build-cli.test.ts tests
// the bundles themselves.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** tsx's loader (its "." export), as a URL `--import` takes from any working directory. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export const CLI_SOURCES = {
  gate: 'src-main/cli/gate.ts',
  gatectl: 'src-cluster/cli/gatectl.ts',
  gatehouse: 'src-cluster/cli/gatehouse.ts',
} as const;

export type CliName = keyof typeof CLI_SOURCES;

/**
 * The node arguments that run CLI `name` with `args`. tsx is named by its resolved URL, not
 * "tsx": `--import tsx` resolves from the child's working directory, which tests often set.
 */
export function cliSourceArgv(name: CliName, args: readonly string[] = []): string[] {
  return ['--import', TSX_LOADER, join(ROOT, CLI_SOURCES[name]), ...args];
}
