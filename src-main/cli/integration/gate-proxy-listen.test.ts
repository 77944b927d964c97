// `gate proxy ssh NODE --port 0` against a real cluster with the stock OpenSSH client: ssh
// connects to the local gateway on 127.0.0.1, authenticates with the certificate `gate login`
// stored and trusts the node through the cluster's host CA; a node the user may not reach is
// refused with the proxy's code on the gateway's stderr; SIGTERM ends the gateway cleanly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { ClusterProcess, stopChild } from '../../../test-support/cluster-process.ts';

const LOGIN = userInfo().username;

/** Starts `gate proxy ssh NODE --port 0` and resolves with the port it printed. */
function startGateway(
  cluster: ClusterProcess,
  node: string,
): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, cluster.gateArgv(['proxy', 'ssh', node, '--port', '0']), {
    env: { ...process.env, GATEHOUSE_HOME: cluster.home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address printed in time; stderr:\n${err}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^127\.0\.0\.1:(\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), stderr: () => err });
      }
    });
    child.once('exit', (code) => reject(new Error(`gate proxy exited (${code}) before listening:\n${err}`)));
  });
}

describe('gate proxy ssh --port: a local SSH gateway for stock OpenSSH', () => {
  const cluster = new ClusterProcess();
  let key = '';
  let cert = '';
  let knownHosts = '';

  before(async () => {
    const version = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
    assert.equal(
      version.status,
      0,
      `the OpenSSH client is needed for this test: ${version.error?.message ?? version.stderr}`,
    );
    await cluster.start();
    const r = cluster.addUserAndLogin('gwuser', 'gateway-password-1', 'access', LOGIN);
    assert.equal(r.status, 0, r.stderr);
    const certPath = readdirSync(cluster.home, { recursive: true, encoding: 'utf8' }).find((f) =>
      f.endsWith('key-cert.pub'),
    );
    assert.ok(certPath, 'gate login stored no key-cert.pub');
    cert = join(cluster.home, certPath);
    key = cert.replace(/-cert\.pub$/, '');
    const hostCa = cluster.gatectl(['auth', 'export', '--type=host']);
    assert.equal(hostCa.status, 0, hostCa.stderr);
    knownHosts = join(cluster.dir, 'known_hosts_gateway');
    writeFileSync(knownHosts, `@cert-authority ${cluster.nodeName} ${hostCa.stdout.trim()}\n`);
  });
  after(() => cluster.destroy());

  const ssh = (port: number, alias: string, args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      // Asynchronous: the gateway child must keep running its event loop while ssh talks to it.
      const child = spawn(
        'ssh',
        [
          '-p',
          String(port),
          '-i',
          key,
          '-o',
          `CertificateFile=${cert}`,
          '-o',
          'IdentitiesOnly=yes',
          '-o',
          'BatchMode=yes',
          '-o',
          `HostKeyAlias=${alias}`,
          '-o',
          'StrictHostKeyChecking=yes',
          '-o',
          `UserKnownHostsFile=${knownHosts}`,
          `${LOGIN}@127.0.0.1`,
          ...args,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });

  test('stock ssh reaches the node through the local port, twice, trusting the host CA', async () => {
    const gw = await startGateway(cluster, cluster.nodeName);
    try {
      const first = await ssh(gw.port, cluster.nodeName, ['id', '-un']);
      assert.equal(first.status, 0, `${first.stderr}\n${gw.stderr()}`);
      assert.equal(first.stdout.trim(), LOGIN);
      const second = await ssh(gw.port, cluster.nodeName, ['echo', 'through-the-gateway']);
      assert.equal(second.status, 0, second.stderr);
      assert.equal(second.stdout.trim(), 'through-the-gateway');
      // The node's host certificate names the node, not another alias: ssh must refuse it.
      const wrongName = await ssh(gw.port, 'not-the-node', ['true']);
      assert.equal(wrongName.status, 255);
      assert.match(wrongName.stderr, /Host key verification failed/);
    } finally {
      assert.equal(await stopChild(gw.child), 0, gw.stderr());
    }
    assert.match(gw.stderr(), /stopped \(SIGTERM\)/);
  });

  test('a node the proxy does not route is refused: ssh sees the close, the gateway says why', async () => {
    const gw = await startGateway(cluster, 'no-such-node');
    try {
      const r = await ssh(gw.port, cluster.nodeName, ['true']);
      assert.equal(r.status, 255);
      // The gateway's stderr is a pipe from another process: its note may land just after ssh quit.
      const reason = /node "no-such-node" not found \[NODE_NOT_FOUND\]/;
      for (let i = 0; i < 100 && !reason.test(gw.stderr()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(gw.stderr(), reason);
    } finally {
      await stopChild(gw.child);
    }
  });

  test('bad ports are refused before anything listens', () => {
    const r = cluster.gate(['proxy', 'ssh', cluster.nodeName, '--port', '70000']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--port must be 0-65535, not "70000"/);
  });
});
