// Real Connect-over-HTTP/2 calls from ClusterClient against loopback servers: a coded server
// error keeps its code, an unreachable proxy and a proxy whose CA changed say so.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { AuthService } from '../../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ErrorCode, type GatehouseError } from '../../../src-shared/errors.ts';
import { ERROR_CODE_HEADER } from '../api-errors.ts';
import { GatehouseClient } from '../gatehouse-client.ts';
import { makeCa, makeLeaf } from '../../../test-support/test-pki.ts';

describe('ClusterClient against real HTTP/2 servers', () => {
  let dir: string;
  let server: http2.Http2SecureServer;
  let port: number;
  let caA: Awaited<ReturnType<typeof makeCa>>;
  let caB: Awaited<ReturnType<typeof makeCa>>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gate-api-'));
    caA = await makeCa('A');
    caB = await makeCa('B');
    const leaf = await makeLeaf(caA, { cn: 'proxy', ips: ['127.0.0.1'] });
    const routes = (router: ConnectRouter) =>
      router.service(AuthService, {
        ping: async () => ({ clusterName: 'it', serverVersion: '9.9', auth: { type: 'local', secondFactor: 'otp' } }),
        login: async () => {
          throw new ConnectError('too many failed login attempts; try again in 30 s', Code.ResourceExhausted, {
            [ERROR_CODE_HEADER]: 'RATE_LIMITED',
          });
        },
      });
    server = http2.createSecureServer(
      { cert: [leaf.certPem, caA.certPem].join('\n'), key: leaf.keyPem },
      connectNodeAdapter({ routes }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('ping works after first-use trust; a coded server error keeps its code and words', async () => {
    const core = new GatehouseClient({ home: join(dir, 'ok'), deviceHome: join(dir, 'ok', 'device'), timeoutMs: 5000 });
    const cluster = await core.cluster(`127.0.0.1:${port}`);
    try {
      await cluster.establishTrust({ trustOnFirstUse: true });
      const ping = await cluster.ping();
      assert.equal(ping.clusterName, 'it');
      assert.equal(ping.secondFactor, 'otp');
      await assert.rejects(cluster.login({ user: 'alice', password: 'pw' }), (e: GatehouseError) => {
        return e.code === ErrorCode.RATE_LIMITED && e.message === 'too many failed login attempts; try again in 30 s';
      });
      assert.equal(core.profiles.current(), undefined, 'a failed login stores no profile');
    } finally {
      cluster.close();
    }
  });

  test('a proxy presenting another CA than the pinned one is PROXY_UNTRUSTED', async () => {
    const core = new GatehouseClient({
      home: join(dir, 'pinned-b'),
      deviceHome: join(dir, 'pinned-b', 'device'),
      timeoutMs: 5000,
    });
    const cluster = await core.cluster(`127.0.0.1:${port}`);
    try {
      await cluster.establishTrust({ caPem: caB.certPem });
      await assert.rejects(cluster.ping(), (e: GatehouseError) => {
        return e.code === ErrorCode.PROXY_UNTRUSTED && e.message.includes('known_proxies.json');
      });
    } finally {
      cluster.close();
    }
  });

  test('a closed port is PROXY_UNREACHABLE naming the address', async () => {
    const probe = http2.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const core = new GatehouseClient({
      home: join(dir, 'closed'),
      deviceHome: join(dir, 'closed', 'device'),
      timeoutMs: 5000,
    });
    const cluster = await core.cluster(`127.0.0.1:${closedPort}`);
    try {
      await cluster.establishTrust({ caPem: caA.certPem });
      await assert.rejects(cluster.ping(), (e: GatehouseError) => {
        return e.code === ErrorCode.PROXY_UNREACHABLE && e.message.includes(`127.0.0.1:${closedPort}`);
      });
    } finally {
      cluster.close();
    }
  });

  async function closedPort(): Promise<number> {
    const probe = http2.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const p = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return p;
  }

  test('with several proxies a refused connect moves the call to the next one, which then stays in use', async () => {
    const dead = await closedPort();
    const core = new GatehouseClient({
      home: join(dir, 'multi'),
      deviceHome: join(dir, 'multi', 'device'),
      timeoutMs: 5000,
    });
    const cluster = await core.cluster(`127.0.0.1:${dead},127.0.0.1:${port}`);
    try {
      assert.equal(cluster.proxy.address, `127.0.0.1:${dead}`, 'the first proxy keys the profile and the pin');
      await cluster.establishTrust({ caPem: caA.certPem });
      assert.equal((await cluster.ping()).clusterName, 'it');
      assert.equal(cluster.dialling.address, `127.0.0.1:${port}`);
      assert.equal((await cluster.ping()).clusterName, 'it');
    } finally {
      cluster.close();
    }
  });

  test('a proxy that fails the pinned CA is never passed over silently for the next one', async () => {
    const leafB = await makeLeaf(caB, { cn: 'impostor', ips: ['127.0.0.1'] });
    const impostor = http2.createSecureServer({ cert: [leafB.certPem, caB.certPem].join('\n'), key: leafB.keyPem });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', () => resolve()));
    const impostorPort = (impostor.address() as AddressInfo).port;
    const dead = await closedPort();
    const core = new GatehouseClient({
      home: join(dir, 'trust'),
      deviceHome: join(dir, 'trust', 'device'),
      timeoutMs: 5000,
    });
    const cluster = await core.cluster(`127.0.0.1:${dead},127.0.0.1:${impostorPort},127.0.0.1:${port}`);
    try {
      await cluster.establishTrust({ caPem: caA.certPem });
      await assert.rejects(cluster.ping(), (e: GatehouseError) => e.code === ErrorCode.PROXY_UNTRUSTED);
      assert.equal(cluster.dialling.address, `127.0.0.1:${impostorPort}`, 'the good third proxy was not tried');
    } finally {
      cluster.close();
      await new Promise<void>((resolve) => impostor.close(() => resolve()));
    }
  });
});
