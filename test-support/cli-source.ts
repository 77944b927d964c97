// How tests run `gate`, `gatectl` and `gatehouse`. By default from their TypeScript sources through
// tsx (what bin/*.mjs does with GATEHOUSE_FROM_SOURCE=1), so a test run by hand always runs the code
// it is testing and never a dist/cli bundle built before the last edit.
//
// scripts/run-tests.mjs (`npm test`) instead builds dist/cli from the sources first and then sets
// GATEHOUSE_TEST_CLI=bundle: the integration suites spawn these commands hundreds of times, and
// tsx resolving and transforming ~300 modules per spawn cost more CPU than the tests themselves on
// a 2-core machine. It also means the suites exercise the bundles users run.
// scripts/integration/build-cli.test.ts tests the bundles' layout.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
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

/** The env value with which the runner says "dist/cli was just built from these sources". */
export const CLI_BUNDLE_MODE = 'bundle';

/** bin/<name>.mjs, the launcher users run (it adds Node's compile cache), when in bundle mode. */
function launcherPath(name: CliName): string | undefined {
  if (process.env.GATEHOUSE_TEST_CLI !== CLI_BUNDLE_MODE) return undefined;
  const bundle = join(ROOT, 'dist', 'cli', `${name}.mjs`);
  // Fail loudly rather than fall back: a missing bundle means the runner's build did not happen.
  if (!existsSync(bundle)) throw new Error(`GATEHOUSE_TEST_CLI=bundle but ${bundle} is missing; run npm run build:cli`);
  return join(ROOT, 'bin', `${name}.mjs`);
}

/**
 * The node arguments that run CLI `name` with `args`. tsx is named by its resolved URL, not
 * "tsx": `--import tsx` resolves from the child's working directory, which tests often set.
 */
export function cliSourceArgv(name: CliName, args: readonly string[] = []): string[] {
  const launcher = launcherPath(name);
  if (launcher) return [launcher, ...args];
  return ['--import', TSX_LOADER, join(ROOT, CLI_SOURCES[name]), ...args];
}
