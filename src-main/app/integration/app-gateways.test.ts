// The desktop app's gateways against a real cluster: a gateway opened for a logged-in cluster
// carries a raw TCP client to the node's SSH server (its banner comes back through 127.0.0.1),
// a cluster without a session is refused before anything listens, and logging out closes the
// gateway together with its live connection.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { ClusterProcess } from '../../../test-support/cluster-process.ts';
import { composeServices, type AppServices } from '../compose.ts';

const PASSWORD = 'gateway-app-password-1';

function firstLine(port: number): Promise<{ socket: net.Socket; line: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve({ socket, line: text.slice(0, nl).trim() });
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed before a line; got ${JSON.stringify(text)}`)));
  });
}

describe('app gateways with a real cluster', () => {
  const cluster = new ClusterProcess();
  const home = mkdtempSync(join(tmpdir(), 'gh-app-gw-'));
  let services: AppServices;

  before(async () => {
    await cluster.start();
    cluster.addUserAndLogin('gina', PASSWORD);
    services = composeServices({ home, host: 'browser', localUser: 'root' });
    await services.clusters.add(cluster.proxyAddr, { caPin: cluster.caPin });
  });
  after(async () => {
    await services?.close();
    await cluster.destroy();
    rmSync(home, { recursive: true, force: true });
  });

  test('without a session the gateway is refused before it listens', async () => {
    await assert.rejects(
      services.gateways.open({ proxy: cluster.proxyAddr, route: { kind: 'ssh', name: cluster.nodeName } }),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.NOT_LOGGED_IN,
    );
    assert.deepEqual(services.gateways.list(), []);
  });

  test("a logged-in cluster's gateway reaches the node; logging out closes it and its connection", async () => {
    await services.auth.login({ proxy: cluster.proxyAddr, user: 'gina', password: PASSWORD });
    const gw = await services.gateways.open({
      proxy: cluster.proxyAddr,
      route: { kind: 'ssh', name: cluster.nodeName },
    });
    assert.equal(gw.localAddress, '127.0.0.1');
    assert.deepEqual(
      services.gateways.list().map((g) => [g.id, g.proxy, g.route.name]),
      [[gw.id, cluster.proxyAddr, cluster.nodeName]],
    );
    const { socket, line } = await firstLine(gw.localPort);
    assert.match(line, /^SSH-2\.0-/, 'the node greets through the gateway');
    const closed = new Promise<void>((r) => socket.once('close', () => r()));

    await services.auth.logout(cluster.proxyAddr);
    await closed;
    assert.deepEqual(services.gateways.list(), []);
    await assert.rejects(
      new Promise((resolve, reject) =>
        net.connect({ host: '127.0.0.1', port: gw.localPort }, () => resolve(null)).once('error', reject),
      ),
      /ECONNREFUSED/,
    );
  });
});
