// Operations on a real `gatehouse start` (issue 17 item 5): /healthz, /readyz and /metrics on each
// process's diagnostics listener, metrics that move with real logins and SSH sessions, readiness
// that turns red with the reason when a proxy loses auth, and `gatectl status` listing every auth
// server and proxy with version and health — in one process and in the split topology.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { DeviceTrustService } from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { ClusterProcess, type ClusterUser } from '../../test-support/cluster-process.ts';
import { probe, scrapeText, scrapeValue, metricValue } from '../ops/test-support/scrape.ts';

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function login(cluster: ClusterProcess, user: string, password: string) {
  return cluster.gate(
    ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', user, '--password-stdin'],
    `${password}\n`,
  );
}

interface StatusJson {
  servers: { role: string; name: string; address: string; version: string; health: string; ready: boolean }[];
}

describe('one process: health, metrics after real logins and sessions, gatectl status', () => {
  const cluster = new ClusterProcess({
    topology: 'single',
    clusterName: 'ops',
    nodeName: 'ops-node',
    diagnostics: true,
  });
  let user: ClusterUser;

  before(async () => {
    await cluster.start();
    cluster.addRole('ops-access');
    user = cluster.addUser('olga', ['ops-access']);
  });
  after(() => cluster.destroy());

  test('healthz and readyz answer 200 with every check named', async () => {
    const live = await probe(cluster.diagAddr(), '/healthz');
    assert.equal(live.status, 200, JSON.stringify(live.json));
    assert.deepEqual(live.json.failing, []);
    const ready = await probe(cluster.diagAddr(), '/readyz');
    assert.equal(ready.status, 200, JSON.stringify(ready.json));
    const names = ready.json.checks.map((c) => c.name);
    for (const n of ['auth_backend', 'auth_caches', 'proxy_auth_connection', 'node_auth_connection', 'startup'])
      assert.ok(names.includes(n), `readyz checks ${n}: ${names.join(', ')}`);
  });

  test('logins count by result, storage calls and watch delivery are measured', async () => {
    const addr = cluster.diagAddr();
    const before = await scrapeText(addr);
    const ok0 = metricValue(before, 'gatehouse_logins_total', { result: 'success' })!;
    const bad0 = metricValue(before, 'gatehouse_logins_total', { result: 'failure' })!;
    assert.equal(login(cluster, user.name, user.password).status, 0);
    assert.notEqual(login(cluster, user.name, 'not-the-password').status, 0);
    const afterText = await scrapeText(addr);
    assert.equal(metricValue(afterText, 'gatehouse_logins_total', { result: 'success' }), ok0 + 1);
    assert.equal(metricValue(afterText, 'gatehouse_logins_total', { result: 'failure' }), bad0 + 1);
    const gets = (t: string) =>
      metricValue(t, 'gatehouse_backend_operation_duration_seconds_count', { op: 'get', result: 'ok' }) ?? 0;
    assert.ok(gets(afterText) > gets(before), 'the logins read storage through the metered backend');
    // Adding the user was a write the services' watches delivered (users are in their caches).
    assert.ok(
      (metricValue(afterText, 'gatehouse_watcher_lag_seconds_count', { writer: 'this_process' }) ?? 0) > 0,
      'watch deliveries timed',
    );
    assert.ok(metricValue(afterText, 'process_cpu_user_seconds_total') !== undefined, 'default process metrics');
    assert.equal(metricValue(afterText, 'gatehouse_build_info', { version: '0.1.0' }), 1);
  });

  test('a refused device authentication counts under result="failure"', async () => {
    const addr = cluster.diagAddr();
    const failures = () => scrapeValue(addr, 'gatehouse_device_authentications_total', { result: 'failure' });
    const before = await failures();
    const identity = JSON.parse(readFileSync(join(cluster.dataDir, 'admin-identity.json'), 'utf8')) as {
      tls_host_ca_pem: string[];
    };
    const transport = createConnectTransport({
      httpVersion: '2',
      baseUrl: `https://${cluster.proxyAddr}`,
      nodeOptions: { ca: identity.tls_host_ca_pem },
    });
    // An answer to a challenge auth never issued: refused, audited, counted.
    await assert.rejects(
      createClient(DeviceTrustService, transport).answerLoginDeviceChallenge(
        { attestationNonce: randomBytes(32) },
        { timeoutMs: 10_000 },
      ),
    );
    assert.equal(await failures(), before + 1);
  });

  test('an SSH session shows in gatehouse_active_sessions{kind="ssh"} while it runs', async () => {
    const addr = cluster.diagAddr();
    const ssh = () => scrapeValue(addr, 'gatehouse_active_sessions', { kind: 'ssh' });
    assert.equal(login(cluster, user.name, user.password).status, 0);
    assert.equal(await ssh(), 0);
    const session = spawn(
      process.execPath,
      cluster.gateArgv(['ssh', `${user.login}@ops-node`, 'echo started; sleep 30']),
      { env: { ...process.env, GATEHOUSE_HOME: cluster.home }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise((resolve) => session.once('exit', resolve));
    try {
      await until('the session counted', 20_000, async () => (await ssh()) === 1);
    } finally {
      session.kill('SIGKILL');
      await exited;
    }
    await until('the session uncounted', 20_000, async () => (await ssh()) === 0);
  });

  test('gatectl status lists the auth server and the proxy, ready, in text and JSON', () => {
    const text = cluster.gatectl(['status']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^ {2}auth +\S+ +127\.0\.0\.1:\d+ +0\.1\.0 +ready +\d+s/m);
    assert.match(
      text.stdout,
      new RegExp(`^ {2}proxy +\\S+ +${cluster.proxyAddr.replace(/\./g, '\\.')} +0\\.1\\.0 +ready`, 'm'),
    );
    const json = cluster.gatectl(['status', '--format', 'json']);
    assert.equal(json.status, 0, json.stderr);
    const servers = (JSON.parse(json.stdout) as StatusJson).servers;
    assert.deepEqual(servers.map((s) => [s.role, s.health]).sort(), [
      ['auth', 'ready'],
      ['proxy', 'ready'],
    ]);
    const bad = cluster.gatectl(['status', '--format', 'yaml']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--format must be text or json/);
  });
});

describe('split topology: each process has its own diagnostics; a proxy without auth is not ready', () => {
  const cluster = new ClusterProcess({
    topology: 'split',
    clusterName: 'ops-split',
    nodeName: 'split-node',
    diagnostics: true,
  });

  before(() => cluster.start());
  after(() => cluster.destroy());

  test('auth, proxy and node each answer readyz with their own checks', async () => {
    const expected = { auth: 'auth_backend', proxy: 'proxy_auth_connection', node: 'node_auth_connection' } as const;
    for (const [service, check] of Object.entries(expected) as [keyof typeof expected, string][]) {
      const ready = await probe(cluster.diagAddr(service), '/readyz');
      assert.equal(ready.status, 200, `${service}: ${JSON.stringify(ready.json)}`);
      const names = ready.json.checks.map((c) => c.name);
      assert.ok(names.includes(check), `${service} checks ${check}: ${names.join(', ')}`);
      assert.ok(!names.some((n) => n.startsWith('auth_')) || service === 'auth', `${service} runs no auth checks`);
    }
    const status = cluster.gatectl(['status', '--format', 'json']);
    assert.equal(status.status, 0, status.stderr);
    const servers = (JSON.parse(status.stdout) as StatusJson).servers;
    assert.deepEqual(servers.map((s) => [s.role, s.health]).sort(), [
      ['auth', 'ready'],
      ['proxy', 'ready'],
    ]);
    assert.equal(servers.find((s) => s.role === 'auth')!.address, cluster.authAddr);
  });

  test('with auth killed the proxy answers 503 naming its auth connection, and is ready again after', async () => {
    await cluster.crashService('auth');
    let last: Awaited<ReturnType<typeof probe>> | undefined;
    await until(
      'proxy readyz 503',
      30_000,
      async () => (last = await probe(cluster.diagAddr('proxy'), '/readyz')).status === 503,
    );
    assert.ok(last!.json.failing.includes('proxy_auth_connection'), JSON.stringify(last!.json));
    const live = await probe(cluster.diagAddr('proxy'), '/healthz');
    assert.equal(live.status, 200, 'not ready is not dead: the proxy keeps serving live sessions');
    await cluster.startService('auth');
    await until(
      'proxy ready again',
      60_000,
      async () => (await probe(cluster.diagAddr('proxy'), '/readyz')).status === 200,
    );
  });
});
