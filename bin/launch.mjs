// What bin/gate.mjs, bin/gatectl.mjs and bin/gatehouse.mjs share: run the executable's bundle
// (dist/cli/<name>.mjs, built by `npm run build:cli` at install time) without loading tsx, or,
// with GATEHOUSE_FROM_SOURCE=1, its TypeScript source through tsx (development).
import { existsSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeMismatch, wantedNodeMajor } from '../scripts/require-node.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The bundle's own exit code for "the install is incomplete": ErrorCode.INTERNAL's (src-shared/errors.ts). */
export const BUNDLE_MISSING_EXIT_CODE = 1;

/** The command that builds dist/cli, named in the error a missing bundle gives. */
export const BUILD_COMMAND = 'npm run build:cli';

/** Where Node keeps compiled code between runs: the user's cache dir, as other CLIs do. */
export function compileCacheDir() {
  const base =
    process.env.XDG_CACHE_HOME ||
    (process.platform === 'darwin'
      ? join(homedir(), 'Library', 'Caches')
      : process.platform === 'win32'
        ? (process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'))
        : join(homedir(), '.cache'));
  return join(base, 'gatehouse', 'node-compile-cache');
}

/**
 * Runs executable `name`: `source` is its entry point relative to the repository root. Node
 * >= 22.1 caches the bundle's compiled code (module.enableCompileCache); older Nodes skip it.
 */
export async function launch(name, source) {
  // The native modules were built for the Node in .node-version; another one fails later with an
  // opaque NODE_MODULE_VERSION error (gatehouse's SQLite), so say what to run instead.
  const mismatch = nodeMismatch(process.versions.node, wantedNodeMajor());
  if (mismatch) {
    process.stderr.write(`ERROR: ${mismatch}\n`);
    process.exitCode = BUNDLE_MISSING_EXIT_CODE;
    return;
  }
  if (process.env.GATEHOUSE_FROM_SOURCE === '1') {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(join(ROOT, source)).href);
    return;
  }
  const bundle = join(ROOT, 'dist', 'cli', `${name}.mjs`);
  if (!existsSync(bundle)) {
    process.stderr.write(
      `ERROR: ${name} is not built: ${bundle} is missing.\n` +
        `Build it with "${BUILD_COMMAND}" in ${ROOT} (npm install runs it), ` +
        `or run the sources with GATEHOUSE_FROM_SOURCE=1 (needs the dev dependencies).\n`,
    );
    process.exitCode = BUNDLE_MISSING_EXIT_CODE;
    return;
  }
  try {
    module.enableCompileCache?.(compileCacheDir());
  } catch {
    // A cache dir we cannot create only costs speed.
  }
  await import(pathToFileURL(bundle).href);
}
