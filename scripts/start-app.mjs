#!/usr/bin/env node
// `npm start`: the demo cluster and the desktop app, one command.
//  0. rebuilds the bundled executables (dist/cli, scripts/build-cli.mjs) when the sources are newer;
//  1. starts `gatehouse demo` as a child (logs in .data/demo-app/cluster.log) and waits for the
//     status file it writes once running (proxy address, demo credentials, CA fingerprint);
//  2. builds the renderer (vite) when dist/renderer is missing or older than its sources;
//  3. adds the demo cluster to the app's home (.data/demo-app/home), pinned to the demo's CA;
//  4. runs Electron on dist/electron/main.cjs when the Electron binary and that build exist,
//     otherwise (or with --browser) the browser host, and prints the URL and the credentials.
// Ctrl+C (or the app exiting) stops every child.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { compileCacheDir } from '../bin/launch.mjs';

const root = new URL('..', import.meta.url).pathname;
const demoDir = join(root, '.data', 'demo-app');
const appHome = join(demoDir, 'home');
const statusFile = join(demoDir, 'demo-status.json');
const clusterLog = join(demoDir, 'cluster.log');
const appLog = join(demoDir, 'app.log');
const rendererIndex = join(root, 'dist', 'renderer', 'index.html');
const electronMain = join(root, 'dist', 'electron', 'main.cjs');
const cliDir = join(root, 'dist', 'cli');
/** The bundles `npm start` runs: the cluster (bin/gatehouse.mjs) and the browser host. */
const cliBundles = ['gatehouse.mjs', 'app-host.mjs'].map((f) => join(cliDir, f));
const cliSources = ['src-main', 'src-cluster', 'src-shared', join('proto', 'gen'), join('scripts', 'build-cli.mjs')];
const forceBrowser = process.argv.includes('--browser');

const children = new Set();
let stopping = false;

function say(line = '') {
  process.stdout.write(line + '\n');
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Stops every child (SIGTERM, then SIGKILL after 10 s) and exits. */
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  const running = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of running) c.kill('SIGTERM');
  const killer = setTimeout(() => running.forEach((c) => c.kill('SIGKILL')), 10_000);
  await Promise.all(running.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r)))));
  clearTimeout(killer);
  process.exit(code);
}

function track(name, child, logFile) {
  children.add(child);
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (stopping) return;
    if (code === 0 && name === 'Electron') {
      say('The app was closed; stopping the demo cluster.');
      void stopAll(0);
      return;
    }
    process.stderr.write(`\n${name} stopped unexpectedly (${signal ?? `exit ${code}`}).\n`);
    if (logFile) process.stderr.write(`Last lines of ${relative(root, logFile)}:\n${tail(logFile)}\n`);
    void stopAll(1);
  });
  return child;
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

/** Spawns with stdout/stderr appended to a log file. */
function spawnLogged(name, args, logFile, env = {}) {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  closeSync(fd);
  return track(name, child, logFile);
}

async function startCluster() {
  rmSync(statusFile, { force: true });
  const child = spawnLogged(
    'The demo cluster',
    [join(root, 'bin', 'gatehouse.mjs'), 'demo', '--json-status', statusFile],
    clusterLog,
  );
  const deadline = Date.now() + 60_000;
  while (!existsSync(statusFile)) {
    if (stopping || child.exitCode !== null) await new Promise(() => {}); // track() is exiting
    if (Date.now() > deadline) {
      process.stderr.write(
        `The demo cluster did not start within 60 s. ${relative(root, clusterLog)}:\n${tail(clusterLog)}\n`,
      );
      await stopAll(1);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return JSON.parse(readFileSync(statusFile, 'utf8'));
}

function newestMtime(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules') continue;
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

/** Rebuilds dist/cli when a bundle is missing or older than the newest source (like the renderer). */
function ensureCliBundles() {
  const sources = Math.max(...cliSources.map((p) => newestMtime(join(root, p))));
  const built = Math.min(...cliBundles.map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0)));
  if (built && built >= sources) return true;
  say(built ? 'The sources changed; rebuilding the executables (dist/cli)…' : 'Building the executables (dist/cli)…');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-cli.mjs')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0 || !cliBundles.every((f) => existsSync(f))) {
    process.stderr.write('Building the executables failed (see above).\n');
    return false;
  }
  return true;
}

function ensureRenderer() {
  const sources = Math.max(newestMtime(join(root, 'src-renderer')), newestMtime(join(root, 'vite.config.ts')));
  const built = existsSync(rendererIndex) ? statSync(rendererIndex).mtimeMs : 0;
  if (built && built >= sources) return true;
  if (!existsSync(join(root, 'vite.config.ts'))) {
    process.stderr.write('There is no built renderer (dist/renderer) and no vite.config.ts to build it with.\n');
    return false;
  }
  say(built ? 'The renderer sources changed; rebuilding dist/renderer…' : 'Building the renderer (dist/renderer)…');
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  const r = spawnSync(npx, ['--no-install', 'vite', 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(rendererIndex)) {
    process.stderr.write('Building the renderer failed (see above).\n');
    return false;
  }
  return true;
}

/**
 * The Electron binary, without require('electron'): that would try to download it when missing.
 * Same lookup as node_modules/electron/index.js.
 */
function electronBinary() {
  let pkgDir;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return undefined;
  }
  let rel = '';
  try {
    rel = readFileSync(join(pkgDir, 'path.txt'), 'utf8').trim();
  } catch {
    // not downloaded
  }
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const path = override ? join(override, rel || 'electron') : rel ? join(pkgDir, 'dist', rel) : undefined;
  return path && existsSync(path) ? path : undefined;
}

const hostArgs = (status) => [
  join(cliDir, 'app-host.mjs'),
  '--home',
  appHome,
  '--add-cluster',
  status.proxy,
  ...(status.caFingerprint ? ['--ca-pin', status.caFingerprint] : []),
];

function credentials(status) {
  return [
    `  Cluster:   ${status.clusterName} at ${status.proxy}`,
    `  CA:        ${status.caFingerprint}`,
    `  User:      ${status.user}`,
    `  Password:  ${status.password}`,
    `  Server:    ${status.node} (log in as ${status.login})`,
  ];
}

async function runElectron(binary, status) {
  // Pre-add the demo cluster to the app's home, then hand that home to Electron.
  const add = spawnSync(process.execPath, [...hostArgs(status), '--add-only'], { cwd: root, encoding: 'utf8' });
  if (add.status !== 0) {
    process.stderr.write(`Adding the demo cluster to the app failed:\n${add.stderr}`);
    await stopAll(1);
  }
  say('Gatehouse demo is running (Electron app).');
  credentials(status).forEach((l) => say(l));
  say(`Logs: ${relative(root, clusterLog)}. Close the app or press Ctrl+C to stop.`);
  track(
    'Electron',
    spawn(binary, [electronMain], { cwd: root, stdio: 'inherit', env: { ...process.env, GATEHOUSE_HOME: appHome } }),
  );
}

async function runBrowserHost(status) {
  // The host bundle is started directly (not through a bin/ launcher): the same compile cache the
  // launchers turn on, through Node's environment variable, saves compiling it at every start.
  const child = spawnLogged('The app (browser host)', hostArgs(status), appLog, {
    NODE_COMPILE_CACHE: compileCacheDir(),
  });
  // stdout goes to the log file; the URL line is read back from there.
  const deadline = Date.now() + 60_000;
  let url;
  while (!url) {
    if (stopping || child.exitCode !== null) await new Promise(() => {});
    if (Date.now() > deadline) {
      process.stderr.write(`The app did not start within 60 s. ${relative(root, appLog)}:\n${tail(appLog)}\n`);
      await stopAll(1);
    }
    await new Promise((r) => setTimeout(r, 100));
    const lines = readFileSync(appLog, 'utf8').split('\n');
    url = lines
      .reverse()
      .find((l) => l.startsWith('Gatehouse app: '))
      ?.slice('Gatehouse app: '.length);
  }
  say('');
  say('Gatehouse demo is running. Open the app in your browser:');
  say(`  ${url}`);
  say('');
  credentials(status).forEach((l) => say(l));
  say('');
  say(`Logs: ${relative(root, clusterLog)}, ${relative(root, appLog)}. Press Ctrl+C to stop.`);
}

async function main() {
  mkdirSync(demoDir, { recursive: true, mode: 0o700 });
  // Each run's logs start fresh (the app log is where the URL is read from).
  rmSync(appLog, { force: true });
  rmSync(clusterLog, { force: true });
  if (!ensureCliBundles()) await stopAll(1);
  say('Starting the demo cluster…');
  const status = await startCluster();
  if (!ensureRenderer()) await stopAll(1);
  const binary = forceBrowser ? undefined : electronBinary();
  if (binary && existsSync(electronMain)) return runElectron(binary, status);
  if (!forceBrowser) {
    say(
      binary
        ? 'Electron is installed but dist/electron/main.cjs is not built (npm run build:electron); using the browser host.'
        : 'No Electron binary is installed; using the browser host instead.',
    );
  }
  return runBrowserHost(status);
}

main().catch((e) => {
  process.stderr.write(`ERROR: ${e?.stack ?? e}\n`);
  void stopAll(1);
});
