// Three processes on loopback — auth, a proxy and a node joined with `gatectl tokens add` tokens —
// and auth killed with SIGKILL in the middle of a live SSH session. What must hold: the session
// keeps running (the node and proxy never need auth for bytes already flowing), new SSH logins
// with a valid certificate still work while auth is down (the node and proxy decide from their
// watched caches), new password logins work again within 2 s of auth being back, and the node
// heartbeats again so `gatectl nodes ls` shows it online. Under locking_mode strict the same outage
// refuses new SSH logins instead (locks made while auth is away would be missing).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { formatAuthorizedKey, publicKeyToWire } from '../../src-shared/sshcert/index.ts';
import { ClusterProcess, type ClusterUser } from '../../test-support/cluster-process.ts';

/** The bound: new logins resume within 2 s of auth being back. */
const LOGIN_RESUME_BOUND_MS = 2_000;
const NODE = 'topo-node';

function collect(child: ChildProcess): { out: () => string } {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { out: () => out };
}

async function until(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('split topology: auth restarts under a live session', () => {
  const cluster = new ClusterProcess({ topology: 'split', clusterName: 'topo', nodeName: NODE });
  let user: ClusterUser;

  before(async () => {
    await cluster.start();
    cluster.addRole('topo-access');
    user = cluster.addUser('carol', ['topo-access']);
    const r = cluster.gate(
      ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', 'carol', '--password-stdin'],
      `${user.password}\n`,
    );
    assert.equal(r.status, 0, r.stderr);
  });

  after(async () => {
    await cluster.destroy();
  });

  test('a client that stopped reading still gets all the output and the exit status after the node closed', async () => {
    // ~5.5 MB: more than loopback's socket buffers hold, less than the 8 MiB channel window, so
    // the node finishes and closes while the end of the output still waits at the proxy.
    const lines = 800_000;
    let expectedBytes = 0;
    for (let i = 1; i <= lines; i++) expectedBytes += String(i).length + 1;
    const child = spawn(
      process.execPath,
      cluster.gateArgv(['ssh', `${user.login}@${NODE}`, `seq 1 ${lines}; exit 3`]),
      {
        env: { ...process.env, GATEHOUSE_HOME: cluster.home },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let bytes = 0;
    let tail = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      bytes += d.length;
      tail = (tail + d.toString()).slice(-32);
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await until('the first output', 60_000, () => bytes > 0);
    // gate stops reading (as a process starved of CPU does) while the node finishes.
    child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 3_000));
    child.kill('SIGCONT');
    assert.equal(await exited, 3, `exit status of the remote command; stderr: ${stderr}`);
    assert.equal(bytes, expectedBytes, 'every byte of the output');
    assert.ok(tail.endsWith(`\n${lines}\n`), tail);
  });

  let lastLoginError = '';
  let client: ReturnType<typeof createClient<typeof AuthService>> | undefined;
  /** A password login straight over the API through the proxy (no CLI start-up in the measurement). */
  async function loginOnce(timeoutMs = 10_000): Promise<boolean> {
    if (!client) {
      const identity = JSON.parse(readFileSync(join(cluster.dataDir, 'admin-identity.json'), 'utf8')) as {
        tls_host_ca_pem: string[];
      };
      // One client for the whole test, as a real client keeps its connection to the proxy.
      const transport = createConnectTransport({
        httpVersion: '2',
        baseUrl: `https://${cluster.proxyAddr}`,
        nodeOptions: { ca: identity.tls_host_ca_pem },
      });
      client = createClient(AuthService, transport);
    }
    const key = createPublicKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    try {
      const res = await client.login(
        { user: 'carol', password: user.password, publicKey: formatAuthorizedKey(publicKeyToWire(key)) },
        { timeoutMs },
      );
      return res.sshCertificate.length > 0;
    } catch (e) {
      lastLoginError = (e as Error).message;
      return false;
    }
  }

  /** Logins until one succeeds; resolves with when (ms after `from`) the first successful one was sent. */
  async function firstLoginAfter(from: number, timeoutMs: number): Promise<number> {
    const deadline = from + timeoutMs;
    while (Date.now() < deadline) {
      const sent = Date.now();
      if (await loginOnce()) return sent - from;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no login within ${timeoutMs} ms of auth's restart: ${lastLoginError}`);
  }

  test('the live session survives, SSH keeps working from the caches, logins resume within 2 s, the node re-heartbeats', async () => {
    assert.ok(await loginOnce(10_000), `a login works before the restart: ${lastLoginError}`);
    const session = spawn(
      process.execPath,
      cluster.gateArgv(['ssh', `${user.login}@${NODE}`, 'for i in $(seq 1 600); do echo tick $i; sleep 0.1; done']),
      { env: { ...process.env, GATEHOUSE_HOME: cluster.home }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const live = collect(session);
    const ticks = () => (live.out().match(/^tick \d+$/gm) ?? []).length;
    try {
      await until('the session printing', 30_000, () => ticks() >= 3);

      await cluster.crashService('auth');
      const ticksAtCrash = ticks();
      await new Promise((r) => setTimeout(r, 2_000));
      assert.ok(ticks() > ticksAtCrash + 5, `the live session stalled while auth was down:\n${live.out()}`);
      assert.equal(session.exitCode, null, 'the live session ended with auth');

      const whileDown = cluster.gate(['ssh', `${user.login}@${NODE}`, 'echo', 'still-in']);
      assert.equal(whileDown.stdout, 'still-in\n', `a new SSH login while auth is down: ${whileDown.stderr}`);
      assert.equal(await loginOnce(), false, 'no password login can work without auth');
      assert.match(lastLoginError, /auth server is unreachable/);

      const restarted = Date.now();
      await cluster.startService('auth');
      const running = Date.now();
      // From auth saying it runs to the first login that succeeds being sent: what the rest of the
      // cluster adds to auth's own start-up (a loaded machine makes the login itself slow, not later).
      const resumedMs = await firstLoginAfter(running, 30_000);
      console.log(`auth restart: process up in ${running - restarted} ms, logins resumed ${resumedMs} ms later`);
      assert.ok(resumedMs < LOGIN_RESUME_BOUND_MS, `logins resumed only after ${resumedMs} ms`);

      // The node reconnects with backoff and heartbeats at once; the inventory shows it online.
      await until('the node online in gatectl nodes ls', 20_000, () => {
        const ls = cluster.gatectl(['nodes', 'ls']);
        return new RegExp(`^node\\s+${NODE}\\s.*\\bonline\\b`, 'm').test(ls.stdout);
      });
      await until('the node re-heartbeat in the log', 20_000, () => /\[node\].*reconnected to auth/.test(cluster.logs));

      const after = cluster.gate(['ssh', `${user.login}@${NODE}`, 'echo', 'after']);
      assert.equal(after.stdout, 'after\n', after.stderr);
      assert.equal(session.exitCode, null, 'the live session is still running after the restart');
      const before = ticks();
      await until('the session still printing', 5_000, () => ticks() > before);
    } finally {
      session.kill('SIGKILL');
    }
  });

  test('locking_mode strict: with auth down the node refuses new SSH logins, and lets them in once auth is back', async () => {
    const cap = join(cluster.dir, 'cap-strict.yaml');
    const capHead = 'kind: cluster_auth_preference\nversion: v2\nmetadata:\n  name: cluster-auth-preference\n';
    writeFileSync(cap, `${capHead}spec:\n  locking_mode: strict\n`);
    const set = cluster.gatectl(['create', '-f', cap]);
    assert.equal(set.status, 0, set.stderr);
    // The node's copy of the preference follows the watch.
    await until('strict mode reaching the node', 10_000, () => {
      const r = cluster.gate(['ssh', `${user.login}@${NODE}`, 'echo', 'ok']);
      return r.status === 0;
    });
    await cluster.crashService('auth');
    await until('the node noticing auth is gone', 30_000, () => {
      const r = cluster.gate(['ssh', `${user.login}@${NODE}`, 'echo', 'in']);
      return r.status !== 0 && /lock view becoming unreliable/.test(r.stderr);
    });
    await cluster.startService('auth');
    await until('SSH logins back once the node resynced', 30_000, () => {
      const r = cluster.gate(['ssh', `${user.login}@${NODE}`, 'echo', 'back']);
      return r.stdout === 'back\n';
    });
  });
});
