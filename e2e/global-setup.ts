// Runs once before the e2e suite: refuses to start (never skips) when what the chosen mode needs
// is missing, and builds what the app loads from dist/ so the tests see the current sources.
// GATEHOUSE_E2E_SKIP_BUILD=1 reuses an existing dist/ (e.g. when CI built it in an earlier step).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appMode, missingPrerequisite } from './support/app-launcher.ts';
import { ROOT } from '../test-support/cluster-process.ts';

function run(what: string, cmd: string, args: string[]): void {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    throw new Error(
      `e2e setup: ${what} failed (${cmd} ${args.join(' ')}, exit ${r.status}):\n${r.stdout}\n${r.stderr}`,
    );
  }
  console.log(`e2e setup: ${what} (${Date.now() - started} ms)`);
}

export default function globalSetup(): void {
  const mode = appMode();
  const missing = missingPrerequisite(mode);
  if (missing) throw new Error(`e2e suite cannot run: ${missing}`);
  console.log(`e2e: testing the ${mode === 'electron' ? 'Electron app' : 'browser host in Chromium'}`);
  if (process.env.GATEHOUSE_E2E_SKIP_BUILD === '1') {
    if (!existsSync(join(ROOT, 'dist/renderer/index.html'))) {
      throw new Error('GATEHOUSE_E2E_SKIP_BUILD=1 but dist/renderer/index.html does not exist');
    }
    return;
  }
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> })
    .scripts;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  if (scripts?.['build:renderer']) run('renderer build', npm, ['run', '-s', 'build:renderer']);
  else
    run('renderer build', process.execPath, [
      join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--logLevel',
      'warn',
    ]);
  if (mode === 'electron') run('electron build', process.execPath, [join(ROOT, 'scripts/build-electron.mjs')]);
}
