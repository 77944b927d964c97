// Test-only: a real Debian nginx as the upstream of the app-access tests and bench:app-access, in
// a temp dir on a loopback port picked at run time. It serves what an internal web app serves: a
// static index page, one large file (for download throughput and checksums) and `/ws` proxied with
// the Upgrade/Connection headers to a small `ws` echo server (websocket-echo.ts), as nginx sits in
// front of Grafana-like apps. As root the workers run as `nobody` (nginx would pick it anyway);
// the master runs in the foreground (`daemon off`) in its own process group so stop() reaches all.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { ftruncateSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../daemon-process.ts';
import { runAsFor, type RunAs } from '../databases/server-process.ts';
import { startWebSocketEcho, type WebSocketEcho } from './websocket-echo.ts';

export const NGINX = process.env.GATEHOUSE_NGINX ?? '/usr/sbin/nginx';
/** What the index page says: tests look for it to know nginx itself answered. */
export const NGINX_INDEX_TEXT = 'gatehouse test app: nginx static page';
/** The whole index page (its byte length is what a client must receive). */
export const NGINX_INDEX_HTML = `<!doctype html><html><head><title>test app</title></head><body><p>${NGINX_INDEX_TEXT}</p></body></html>\n`;
export const LARGE_FILE_PATH = '/large.bin';

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const PORT_ATTEMPTS = 3;
/** Sizes above this are made sparse (zeros, instant); below it random bytes, so a checksum catches reordering. */
const RANDOM_FILL_LIMIT_MIB = 64;
const MIB = 1 << 20;

export interface NginxOptions {
  /** Size of LARGE_FILE_PATH in MiB (default 8). */
  largeFileMiB?: number;
  /** Force a sparse (all zeros) large file even when small; default: sparse above 64 MiB. */
  sparse?: boolean;
  /** The nginx binary; default NGINX ($GATEHOUSE_NGINX or /usr/sbin/nginx). */
  binary?: string;
  /** Keep the temp dir after stop() (debugging). */
  keepDir?: boolean;
}

export interface NginxServer {
  host: string;
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  dir: string;
  /** The large file's size in bytes and its SHA-256 (hex). */
  largeFile: { path: string; bytes: number; sha256: string };
  /** The WebSocket echo server nginx proxies `/ws` to. */
  echo: WebSocketEcho;
  /** Everything nginx printed (its error log goes to stderr). */
  output(): string;
  /** Stops nginx (its process group) and the echo server; removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

function requireNginx(binary: string): void {
  if (!existsSync(binary)) {
    throw new Error(`${binary} not found: install nginx-light: node scripts/system-packages.mjs`);
  }
}

/** nginx's `user` directive takes a group name (Debian's nobody is in nogroup, not "nobody"). */
function groupName(gid: number): string {
  const r = spawnSync('getent', ['group', String(gid)], { encoding: 'utf8' });
  const name = r.stdout.split(':')[0];
  if (r.status !== 0 || !name) throw new Error(`no group with id ${gid} (getent group ${gid})`);
  return name;
}

function nginxConf(dir: string, port: number, echoPort: number, runAs: RunAs | undefined): string {
  const temp = (name: string) => join(dir, 'temp', name);
  return `${runAs ? `user ${runAs.name} ${groupName(runAs.gid)};` : ''}
worker_processes 1;
daemon off;
master_process on;
pid ${join(dir, 'nginx.pid')};
error_log stderr notice;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 100000;
  default_type application/octet-stream;
  types { text/html html; }
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${join(dir, 'www')};
    index index.html;
    location /ws {
      proxy_pass http://127.0.0.1:${echoPort};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;
      proxy_read_timeout 300s;
    }
  }
}
`;
}

/** Writes the large file: random bytes in 1 MiB blocks, or a sparse file of zeros; returns its SHA-256. */
function writeLargeFile(path: string, mib: number, sparse: boolean): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w', 0o644);
  try {
    if (sparse) {
      ftruncateSync(fd, mib * MIB);
      const zeros = Buffer.alloc(MIB);
      for (let i = 0; i < mib; i++) hash.update(zeros);
    } else {
      for (let i = 0; i < mib; i++) {
        const block = randomBytes(MIB);
        writeSync(fd, block);
        hash.update(block);
      }
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

async function stopGroup(child: ChildProcess): Promise<void> {
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  if (running(child)) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // SIGTERM is nginx's fast shutdown: it does not wait for kept-alive clients.
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
  kill('SIGKILL');
}

/** Spawns nginx on a fresh port and waits until it accepts connections; retries when the port was taken. */
async function launch(binary: string, dir: string, echoPort: number, runAs: RunAs | undefined) {
  let lastOutput = '';
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const confFile = join(dir, 'nginx.conf');
    writeFileSync(confFile, nginxConf(dir, port, echoPort, runAs), { mode: 0o644 });
    // -e: the start-up log too goes to stderr (not /var/log/nginx); -p: relative paths in dir.
    const child = spawn(binary, ['-p', dir, '-c', confFile, '-e', 'stderr'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const onExit = () => void stopGroup(child);
    process.once('exit', onExit);
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    let failure: Error | undefined;
    child.once('error', (e) => (failure = e));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (running(child) && !failure && Date.now() < deadline) {
      if (await canConnect(port)) {
        const stop = async () => {
          await stopGroup(child);
          process.removeListener('exit', onExit);
        };
        return { port, output: () => output, stop };
      }
      await new Promise((r) => setTimeout(r, 30));
    }
    await stopGroup(child);
    process.removeListener('exit', onExit);
    if (failure) throw new Error(`nginx: could not run ${binary}: ${failure.message}`);
    lastOutput = output;
    if (!output.includes('Address already in use')) break;
  }
  throw new Error(`nginx did not accept connections within ${START_TIMEOUT_MS / 1000} s:\n${lastOutput}`);
}

/** Starts the WebSocket echo server and nginx in front of it. Call stop() when done. */
export async function startNginx(opts: NginxOptions = {}): Promise<NginxServer> {
  const binary = opts.binary ?? NGINX;
  requireNginx(binary);
  const mib = opts.largeFileMiB ?? 8;
  if (!Number.isInteger(mib) || mib < 0 || mib > 4096) throw new Error(`largeFileMiB ${mib} must be 0..4096`);
  const runAs = process.getuid?.() === 0 ? runAsFor('nobody') : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'));
  // The workers (nobody when we are root) read www/ and write temp/.
  chmodSync(dir, 0o755);
  let echo: WebSocketEcho | undefined;
  let stopNginx: (() => Promise<void>) | undefined;
  const cleanup = async () => {
    await stopNginx?.();
    await echo?.stop();
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const www = join(dir, 'www');
    mkdirSync(www, { mode: 0o755 });
    writeFileSync(join(www, 'index.html'), NGINX_INDEX_HTML, { mode: 0o644 });
    const largePath = join(www, LARGE_FILE_PATH.slice(1));
    const sha256 = writeLargeFile(largePath, mib, opts.sparse ?? mib > RANDOM_FILL_LIMIT_MIB);
    for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      const p = join(dir, 'temp', t);
      mkdirSync(p, { recursive: true, mode: 0o700 });
      if (runAs) chownSync(p, runAs.uid, runAs.gid);
    }
    echo = await startWebSocketEcho();
    const server = await launch(binary, dir, echo.port, runAs);
    stopNginx = server.stop;
    let stopped = false;
    return {
      host: '127.0.0.1',
      port: server.port,
      url: `http://127.0.0.1:${server.port}`,
      dir,
      largeFile: { path: LARGE_FILE_PATH, bytes: mib * MIB, sha256 },
      echo,
      output: server.output,
      async stop() {
        if (stopped) return;
        stopped = true;
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
