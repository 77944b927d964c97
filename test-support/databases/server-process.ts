// Test-only: what the PostgreSQL and MariaDB launchers share — running a database server as its
// unprivileged system user in a temp dir, on a loopback port picked at run time, and stopping it
// with its whole process group so no server outlives the test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../daemon-process.ts';

/** A user the launchers create in the database; `superuser` may administer everything. */
export interface DatabaseUserSpec {
  name: string;
  superuser?: boolean;
}

/** A database the launchers create, owned by (PostgreSQL) or fully granted to (MariaDB) `owner`. */
export interface DatabaseSpec {
  name: string;
  owner: string;
}

/** What both launchers take: the server's TLS identity, the CA its client certs must chain to, users and databases. */
export interface DatabaseServerOptions {
  serverCertPem: string;
  serverKeyPem: string;
  /** Client certificates must chain to this CA (PostgreSQL ssl_ca_file, MariaDB ssl-ca). */
  clientCaPem: string;
  users: DatabaseUserSpec[];
  databases?: DatabaseSpec[];
  /** Keep the temp dir after stop() (debugging). */
  keepDir?: boolean;
}

/** Files a client passes to psql / mariadb: its cert and key, and optionally the CA to verify the server. */
export interface ClientCertFiles {
  certFile: string;
  keyFile: string;
  caFile?: string;
}

/** Who owns the server's files and runs its processes: the system user when we are root, else ourselves. */
export interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const PORT_ATTEMPTS = 3;

/** Throws naming the Debian package when a binary is missing: a missing server is a setup error, never a skip. */
export function requireBinary(path: string, debianPackage: string): void {
  if (!existsSync(path)) {
    throw new Error(
      `${path} not found: install the Debian package ${debianPackage} ` +
        `(node scripts/system-packages.mjs installs everything the tests need)`,
    );
  }
}

/**
 * As root, the server must run as its own system user (PostgreSQL refuses to run as root, MariaDB
 * should not); otherwise everything runs as the current user.
 */
export function runAsFor(systemUser: string): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, systemUser], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(`system user "${systemUser}" does not exist (it comes with the database server's Debian package)`);
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), name: systemUser };
}

/** spawn options that run a child as `runAs` (libuv also drops root's supplementary groups). */
export function asUser(runAs: RunAs | undefined): { uid?: number; gid?: number } {
  return runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
}

/** Writes a file (mode `mode`) and hands it to the server's user. */
export function writeOwned(path: string, text: string, runAs: RunAs | undefined, mode = 0o644): void {
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
  if (runAs) chownSync(path, runAs.uid, runAs.gid);
}

export function mkdirOwned(path: string, runAs: RunAs | undefined, mode = 0o700): void {
  mkdirSync(path, { recursive: true, mode });
  chmodSync(path, mode);
  if (runAs) chownSync(path, runAs.uid, runAs.gid);
}

/**
 * Writes a client's cert, key (0600, as libpq and the mariadb client insist) and optional server CA
 * under `dir`, owned by the current user (the clients run as us, not as the server's user).
 */
export function writeClientCertFiles(
  dir: string,
  name: string,
  cert: { certPem: string; keyPem: string },
  serverCaPem?: string,
): ClientCertFiles {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new Error(`client file name "${name}" must be [A-Za-z0-9_.-]{1,64}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(certFile, cert.certPem, { mode: 0o644 });
  writeFileSync(keyFile, cert.keyPem, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  if (serverCaPem === undefined) return { certFile, keyFile };
  const caFile = join(dir, `${name}.ca.crt`);
  writeFileSync(caFile, serverCaPem, { mode: 0o644 });
  return { certFile, keyFile, caFile };
}

/** Database object names the launchers accept: plain identifiers, so no quoting questions arise in setup SQL. */
export function checkIdentifier(kind: string, name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(`${kind} name "${name}" must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 63 chars)`);
  }
  return name;
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** Everything the server printed (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

export interface LaunchSpec {
  /** Human name for messages, e.g. "PostgreSQL". */
  label: string;
  command: string;
  args(port: number): string[];
  runAs: RunAs | undefined;
  env?: NodeJS.ProcessEnv;
  /** The signal that makes the server shut down promptly without waiting for clients. */
  stopSignal: NodeJS.Signals;
  /** True once the server says it accepts connections (given everything it printed so far). */
  ready(output: string): boolean;
  /** True when the server's output says the port was taken: retried with another port. */
  portTaken(output: string): boolean;
  /** This port and no other (a restart keeps its address); default: a free one. */
  port?: number;
}

/** Every started group, killed hard if the test process exits without stopping them. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const group of liveGroups) killGroup(group, 'SIGKILL');
    });
  }
  liveGroups.add(pid);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

/** Stops the server's process group: `signal`, then SIGKILL after the grace time; resolves when the leader exited. */
async function stopGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  if (running(child)) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(pid, signal);
    const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
  // Helpers the leader left behind (a backend mid-exit) share its group: make sure none survive.
  killGroup(pid, 'SIGKILL');
  liveGroups.delete(pid);
}

/**
 * Starts the server on a free loopback port and waits until it is ready. Another process may take
 * the port between freePort() and the server's bind, so a "port in use" exit is retried.
 */
export async function launchServer(spec: LaunchSpec): Promise<ServerProcess> {
  let lastOutput = '';
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = spec.port ?? (await freePort());
    // detached: its own process group, so stop() reaches every process the server forks.
    const child = spawn(spec.command, spec.args(port), {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: spec.env ?? process.env,
      ...asUser(spec.runAs),
    });
    if (child.pid !== undefined) trackGroup(child.pid);
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    const deadline = Date.now() + START_TIMEOUT_MS;
    let failure: Error | undefined;
    void spawnError.then((e) => (failure = e));
    while (running(child) && !failure && Date.now() < deadline) {
      if (spec.ready(output)) {
        return { child, port, output: () => output, stop: () => stopGroup(child, spec.stopSignal) };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await stopGroup(child, 'SIGKILL');
    if (failure) throw new Error(`${spec.label}: could not run ${spec.command}: ${failure.message}`);
    lastOutput = output;
    if (spec.port !== undefined || !spec.portTaken(output)) break;
  }
  throw new Error(`${spec.label} did not become ready within ${START_TIMEOUT_MS / 1000} s:\n${lastOutput}`);
}

/** Runs a one-shot setup command (initdb, install-db) as the server's user; throws with its output on failure. */
export function runSetup(
  label: string,
  command: string,
  args: string[],
  runAs: RunAs | undefined,
  cwd: string,
): string {
  const r = spawnSync(command, args, { encoding: 'utf8', cwd, timeout: 120_000, ...asUser(runAs) });
  if (r.status !== 0) {
    throw new Error(`${label}: ${command} failed (${r.status ?? r.signal ?? r.error}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}
