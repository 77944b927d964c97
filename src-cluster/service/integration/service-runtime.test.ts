// The service runtime against a real auth (an in-process daemon on loopback): the proxy and node
// join once and keep their identity in the data dir, a restart reuses it without a token, and a
// renewal over mTLS gives a new certificate for the same host id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { parseConfig } from '../../daemon/config.ts';
import { startDaemon } from '../../daemon/daemon.ts';
import { createMemoryLogger } from '../../log/logger.ts';
import { hostIdentityPath, loadHostIdentity } from '../host-identity-file.ts';
import { clusterClientOf, renewHostIdentity } from '../join-client.ts';
import { ServiceRuntime } from '../service-runtime.ts';

async function runDaemon(dir: string): Promise<{ lines: string[]; close: () => Promise<void>; auth: string }> {
  const cfg = parseConfig(
    // A short idle timeout: the services' silent watch streams must outlive it (api-listener.ts).
    'proxy:\n  listen_addr: 127.0.0.1:0\n  idle_timeout: 1s\nnode:\n  name: rt-node\n  listen_addr: 127.0.0.1:0\n',
    'test',
  );
  cfg.data_dir = dir;
  const log = createMemoryLogger('debug');
  const daemon = await startDaemon(cfg, log);
  return { lines: log.lines, close: () => daemon.close(), auth: daemon.authAddress! };
}

test('services join once, keep a private identity, reuse it after a restart and renew it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-runtime-'));
  try {
    const first = await runDaemon(dir);
    await first.close();
    const joins = first.lines.filter((l) => /joined the cluster/.test(l));
    assert.equal(joins.length, 2, `proxy and node each joined once:\n${joins.join('\n')}`);
    const node = loadHostIdentity(hostIdentityPath(dir, 'node'))!;
    const proxy = loadHostIdentity(hostIdentityPath(dir, 'proxy'))!;
    assert.equal(statSync(hostIdentityPath(dir, 'node')).mode & 0o777, 0o600);
    assert.match(node.ssh_host_cert, /-cert-v01@openssh\.com /, 'the node got an SSH host certificate');
    assert.equal(proxy.ssh_key, '', 'the proxy has no SSH host key');

    const second = await runDaemon(dir);
    try {
      assert.equal(second.lines.filter((l) => /joined the cluster/.test(l)).length, 0, 'no second join');
      await new Promise((r) => setTimeout(r, 2_500));
      const lost = second.lines.filter((l) => /lost the connection to auth/.test(l));
      assert.deepEqual(lost, [], 'a silent watch stream is not cut by the idle timeout');
      assert.equal(loadHostIdentity(hostIdentityPath(dir, 'node'))!.host_id, node.host_id);

      const renewed = await renewHostIdentity(clusterClientOf(node, second.auth), node, {
        dnsNames: ['rt-node'],
        ips: ['127.0.0.1'],
      });
      assert.equal(renewed.host_id, node.host_id);
      assert.notEqual(renewed.tls_key_pem, node.tls_key_pem, 'a renewal brings a new key');
      const cert = new X509Certificate(renewed.tls_cert_pem);
      assert.ok(cert.checkPrivateKey(createPrivateKey(renewed.tls_key_pem)), 'the certificate is for the new key');
      assert.ok(renewed.expires_unix * 1000 > Date.now());
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A loopback port nothing listens on (picked by the OS, then closed). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

test('a runtime whose first auth address is dead fails over to the next, says so, and watches there', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-runtime-fo-'));
  const other = mkdtempSync(join(tmpdir(), 'gh-runtime-fo2-'));
  const daemon = await runDaemon(dir);
  let runtime: ServiceRuntime | undefined;
  try {
    // The node's identity, as a second copy of that node elsewhere would hold it.
    mkdirSync(dirname(hostIdentityPath(other, 'node')), { recursive: true });
    copyFileSync(hostIdentityPath(dir, 'node'), hostIdentityPath(other, 'node'));
    const log = createMemoryLogger('debug');
    const dead = `127.0.0.1:${await closedPort()}`;
    runtime = await ServiceRuntime.start({
      role: 'node',
      name: 'rt-node',
      dataDir: other,
      authServers: [dead, daemon.auth],
      dnsNames: ['rt-node'],
      ips: ['127.0.0.1'],
      version: 'test',
      log,
    });
    assert.equal(runtime.connected, true, 'start() returned with the snapshot from the second address');
    assert.equal(runtime.authAddresses.current, daemon.auth);
    const moved = log.lines.find((l) => /failing over to the next auth address/.test(l));
    assert.ok(
      moved?.includes(dead) && moved.includes(daemon.auth),
      `one line names both addresses:\n${log.lines.join('\n')}`,
    );
  } finally {
    await runtime?.close();
    await daemon.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  }
});
