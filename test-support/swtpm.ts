// Test-only: a throwaway software TPM (swtpm) per test, so device-trust tests run against a real
// TPM 2.0 implementation on machines without one. Each instance gets its own state dir and its
// own swtpm_setup config, so the local CA that signs the EK certificate lives in the temp dir
// (not /var/lib/swtpm-localca) and tests never share or leak CAs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopChild } from './daemon-process.ts';

export interface Swtpm {
  /** TCTI string for tpm2-tss / tpm2-tools (`TPM2TOOLS_TCTI`, `GATEHOUSE_TPM_TCTI`). */
  tcti: string;
  host: string;
  port: number;
  ctrlPort: number;
  /** The local CA cert (PEM) that signed the EK certificates (an intermediate under rootCaCertPem). */
  ekCaCertPem: string;
  /** The self-signed root above ekCaCertPem. */
  rootCaCertPem: string;
  /** The temp dir holding state/, ca/ and the configs; removed by stop(). */
  dir: string;
  /** The TPM's own state (NV, persistent EKs). */
  stateDir: string;
  /** Env for tpm2-tools children: process.env plus TPM2TOOLS_TCTI. */
  env: NodeJS.ProcessEnv;
  /** The swtpm process (benchmarks read its CPU time from /proc). */
  pid: number | undefined;
  /** Stops swtpm and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface SwtpmOptions {
  /** Keep the temp dir after stop() (for debugging). */
  keepDir?: boolean;
  /**
   * Start from a copy of this TPM's manufactured state (its seeds, EK and EK certificate) instead
   * of manufacturing one: a second TPM that is, to every client and to the cluster, the same
   * device, so two ceremonies of one device can run at once (one swtpm serves one client at a time).
   * Copy before either is used, so both start from the same state.
   */
  cloneOf?: Swtpm;
}

const APT_HINT = 'install the Debian packages: apt-get install swtpm swtpm-tools tpm2-tools';

function requireTool(name: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`swtpm test harness: \`${name}\` not found on PATH; ${APT_HINT}`);
}

/** Manufactures a TPM state (EK certs in NV, signed by a CA in `dir/ca`). */
function manufacture(dir: string): { stateDir: string; caDir: string } {
  const stateDir = join(dir, 'state');
  const caDir = join(dir, 'ca');
  mkdirSync(stateDir);
  mkdirSync(caDir);
  const setupConf = join(dir, 'swtpm_setup.conf');
  const localcaConf = join(dir, 'swtpm-localca.conf');
  const localcaOptions = join(dir, 'swtpm-localca.options');
  writeFileSync(
    setupConf,
    [
      'create_certs_tool = /usr/bin/swtpm_localca',
      `create_certs_tool_config = ${localcaConf}`,
      `create_certs_tool_options = ${localcaOptions}`,
      'active_pcr_banks = sha256',
      '',
    ].join('\n'),
  );
  writeFileSync(
    localcaConf,
    [
      `statedir = ${caDir}`,
      `signingkey = ${join(caDir, 'signkey.pem')}`,
      `issuercert = ${join(caDir, 'issuercert.pem')}`,
      `certserial = ${join(caDir, 'certserial')}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    localcaOptions,
    '--platform-manufacturer Gatehouse\n--platform-version 2.1\n--platform-model swtpm-test\n',
  );
  const r = spawnSync(
    'swtpm_setup',
    [
      '--tpm2',
      '--tpmstate',
      stateDir,
      '--create-ek-cert',
      '--create-platform-cert',
      '--config',
      setupConf,
      '--overwrite',
    ],
    // HOME/XDG point into the temp dir so a user's ~/.config/swtpm_setup.conf cannot interfere.
    { encoding: 'utf8', env: { ...process.env, XDG_CONFIG_HOME: dir, HOME: dir }, timeout: 60_000 },
  );
  if (r.status !== 0) {
    throw new Error(`swtpm_setup failed (status ${r.status}):\n${r.stdout}\n${r.stderr}\n${r.error ?? ''}`);
  }
  return { stateDir, caDir };
}

function copyState(from: string, dir: string): { stateDir: string; caDir: string } {
  for (const sub of ['state', 'ca']) cpSync(join(from, sub), join(dir, sub), { recursive: true });
  return { stateDir: join(dir, 'state'), caDir: join(dir, 'ca') };
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** tpm2-tss's swtpm TCTI always uses port+1 for the control channel, so the two must be adjacent. */
async function adjacentFreePorts(host: string): Promise<{ port: number; ctrlPort: number }> {
  for (let i = 0; i < 50; i++) {
    const port = await freePort();
    if (port < 65535 && (await portIsFree(host, port + 1))) return { port, ctrlPort: port + 1 };
  }
  throw new Error('swtpm test harness: found no two adjacent free loopback ports');
}

async function launch(
  stateDir: string,
  host: string,
): Promise<{ child: ChildProcess; port: number; ctrlPort: number }> {
  let lastOutput = '';
  // Another process may grab a port between freePort() and swtpm's bind: retry with new ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    const { port, ctrlPort } = await adjacentFreePorts(host);
    const child = spawn(
      'swtpm',
      [
        'socket',
        '--tpm2',
        '--server',
        `type=tcp,port=${port},bindaddr=${host}`,
        '--ctrl',
        `type=tcp,port=${ctrlPort},bindaddr=${host}`,
        '--tpmstate',
        `dir=${stateDir}`,
        '--flags',
        'not-need-init,startup-clear',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      if (await canConnect(host, port)) return { child, port, ctrlPort };
      await new Promise((r) => setTimeout(r, 20));
    }
    lastOutput = output;
    await stopChild(child, 1000);
  }
  throw new Error(`swtpm did not start listening:\n${lastOutput}`);
}

/** Starts a fresh, manufactured swtpm on free loopback ports. Call stop() when done. */
export async function startSwtpm(opts: SwtpmOptions = {}): Promise<Swtpm> {
  requireTool('swtpm');
  requireTool('swtpm_setup');
  requireTool('swtpm_localca');
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-swtpm-'));
  try {
    const { stateDir, caDir } = opts.cloneOf ? copyState(opts.cloneOf.dir, dir) : manufacture(dir);
    const host = '127.0.0.1';
    const { child, port, ctrlPort } = await launch(stateDir, host);
    const tcti = `swtpm:host=${host},port=${port}`;
    let stopped = false;
    return {
      tcti,
      host,
      port,
      ctrlPort,
      ekCaCertPem: readFileSync(join(caDir, 'issuercert.pem'), 'utf8'),
      rootCaCertPem: readFileSync(join(caDir, 'swtpm-localca-rootca-cert.pem'), 'utf8'),
      dir,
      stateDir,
      env: { ...process.env, TPM2TOOLS_TCTI: tcti },
      pid: child.pid,
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopChild(child, 5000);
        if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
