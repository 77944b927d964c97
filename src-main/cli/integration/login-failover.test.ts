// Issue 17 item 4, first contact: `gate login --proxy p1,p2` with p1 down. Real parts: auth and
// two proxies as separate `gatehouse` processes (split topology), the first proxy killed with
// SIGKILL before anyone logs in, and the real `gate` CLI in a fresh home each time. Proven: the
// CA shown for confirmation is read from the proxy that answered and says so; a matching
// --ca-pin logs in through the second proxy and pins the CA under the first address (the
// profile keeps both); a proxy in the list that presents another CA is refused with
// PROXY_UNTRUSTED, never passed over; a proxy that accepts TCP and never finishes TLS is passed over
// once the connect time-out ends, and login names it with that reason; with every proxy down the
// error names each one and why.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterProcess, freePort, type ClusterUser } from '../../../test-support/cluster-process.ts';
import { makeCa, makeLeaf } from '../../../test-support/test-pki.ts';

/**
 * A TLS server presenting a chain from another CA, in its own process: `gate` runs synchronously
 * from the test, so a server in this process could not answer it.
 */
async function startImpostor(port: number): Promise<ChildProcess> {
  const ca = await makeCa('impostor');
  const leaf = await makeLeaf(ca, { cn: 'impostor', ips: ['127.0.0.1'] });
  const script = `
    const tls = require('node:tls');
    const s = tls.createServer({ cert: process.env.CERT, key: process.env.KEY }, (c) => c.end());
    s.on('tlsClientError', () => {});
    s.listen(${port}, '127.0.0.1', () => console.log('listening'));`;
  const child = spawn(process.execPath, ['-e', script], {
    env: { ...process.env, CERT: `${leaf.certPem}\n${ca.certPem}`, KEY: leaf.keyPem },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the impostor TLS server exited (${code})`)));
  });
  return child;
}

/**
 * A listener that accepts TCP connections and never says a word (a hung proxy, a black-holing
 * load balancer): no TLS handshake ever completes. In its own process, as startImpostor.
 */
async function startSilent(port: number): Promise<ChildProcess> {
  const script = `
    const held = [];
    require('node:net').createServer((c) => held.push(c)).listen(${port}, '127.0.0.1', () => console.log('listening'));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the silent listener exited (${code})`)));
  });
  return child;
}

describe('gate login with several proxies when the first one is down (split topology)', () => {
  const cluster = new ClusterProcess({ topology: 'split' });
  let user: ClusterUser;
  let proxy1 = '';
  let proxy2 = '';
  let impostor: ChildProcess | undefined;
  let impostorAddr = '';

  before(async () => {
    await cluster.start();
    proxy1 = cluster.proxyAddr;
    proxy2 = `127.0.0.1:${await freePort()}`;
    await cluster.startJoined('proxy2', { roles: 'proxy', proxyAddr: proxy2 });
    cluster.addRole('access');
    user = cluster.addUser('failover', ['access']);
    // Before any login: the first proxy of every list below is gone.
    await cluster.crashService('proxy');
    const port = await freePort();
    impostorAddr = `127.0.0.1:${port}`;
    impostor = await startImpostor(port);
  });
  after(async () => {
    impostor?.kill('SIGKILL');
    await cluster.destroy();
  });

  const freshHome = () => mkdtempSync(join(cluster.dir, 'home-'));
  const login = (home: string, proxies: string, ...extra: string[]) =>
    cluster.gate(
      ['login', '--proxy', proxies, '--user', user.name, '--password-stdin', ...extra],
      `${user.password}\n`,
      { GATEHOUSE_HOME: home },
    );

  test('without a pin the refusal shows the CA that the second proxy presented, and says so', () => {
    const r = login(freshHome(), `${proxy1},${proxy2}`);
    assert.equal(r.status, 5, r.stderr);
    assert.ok(r.stderr.includes(cluster.caPin), `the refusal shows the CA fingerprint:\n${r.stderr}`);
    assert.ok(
      r.stderr.includes(`(presented by ${proxy2}; ${proxy1} did not answer)`),
      `the refusal names the proxy the CA came from:\n${r.stderr}`,
    );
  });

  test('--ca-pin logs in through the second proxy; the pin is keyed by the first, the profile keeps both', () => {
    const home = freshHome();
    const r = login(home, `${proxy1},${proxy2}`, '--ca-pin', cluster.caPin);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`Trusting the proxy at ${proxy1} with CA ${cluster.caPin}, presented by ${proxy2}`),
    );
    const pins = JSON.parse(readFileSync(join(home, 'known_proxies.json'), 'utf8'));
    assert.deepEqual(Object.keys(pins.proxies), [proxy1]);
    assert.equal(pins.proxies[proxy1].fingerprint, cluster.caPin);
    const status = cluster.gate(['status'], '', { GATEHOUSE_HOME: home });
    assert.match(status.stdout, /Logged in as: failover/, status.stdout + status.stderr);
    // A later call (a node listing) fails over from the dead first proxy the same way.
    const ls = cluster.gate(['ls'], '', { GATEHOUSE_HOME: home });
    assert.equal(ls.status, 0, ls.stderr);
    assert.ok(ls.stdout.includes(cluster.nodeName), ls.stdout);
    // A second login, now with the CA pinned, needs nothing more.
    assert.equal(login(home, `${proxy1},${proxy2}`).status, 0);
  });

  test('--insecure-trust-on-first-use says which proxy presented the CA it trusted', () => {
    const r = login(freshHome(), `${proxy1},${proxy2}`, '--insecure-trust-on-first-use');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(
      r.stderr.includes(`Trusting its certificate authority (as presented by ${proxy2}):\n  ${cluster.caPin}`),
      r.stderr,
    );
  });

  test('a proxy presenting another CA is refused with PROXY_UNTRUSTED, not passed over for the good one', () => {
    const home = freshHome();
    const r = login(home, `${proxy1},${impostorAddr},${proxy2}`, '--ca-pin', cluster.caPin);
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`the proxy at ${impostorAddr} does not present the CA ${cluster.caPin}`));
    assert.doesNotMatch(cluster.gate(['status'], '', { GATEHOUSE_HOME: home }).stdout, /Logged in as/);
    // Pinned already: a later login verifies the impostor against the pin and refuses it too.
    const pinnedHome = freshHome();
    assert.equal(login(pinnedHome, `${proxy1},${proxy2}`, '--ca-pin', cluster.caPin).status, 0);
    const again = login(pinnedHome, `${proxy1},${impostorAddr},${proxy2}`);
    assert.equal(again.status, 5, again.stderr);
    assert.match(
      again.stderr,
      new RegExp(`the proxy at ${impostorAddr} presents CA SHA256:[0-9a-f]{64}, not the cluster's CA`),
    );
  });

  test('a proxy that accepts TCP but never finishes TLS is passed over after the connect time-out, and login says why', async () => {
    const port = await freePort();
    const silentAddr = `127.0.0.1:${port}`;
    const silent = await startSilent(port);
    try {
      const home = freshHome();
      const r = login(home, `${silentAddr},${proxy2}`, '--ca-pin', cluster.caPin);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`Skipped the proxy at ${silentAddr}: no TLS handshake within \\d+ ms\\.`));
      assert.match(
        r.stderr,
        new RegExp(`Trusting the proxy at ${silentAddr} with CA ${cluster.caPin}, presented by ${proxy2}`),
      );
      const status = cluster.gate(['status'], '', { GATEHOUSE_HOME: home });
      assert.match(status.stdout, /Logged in as: failover/, status.stdout + status.stderr);
    } finally {
      silent.kill('SIGKILL');
    }
  });

  test('with every proxy down the error names each proxy and why', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const r = login(freshHome(), `${proxy1},${dead}`, '--ca-pin', cluster.caPin);
    assert.equal(r.status, 5, r.stderr);
    assert.ok(
      r.stderr.includes(`cannot reach any of the cluster's proxies: ${proxy1} (ECONNREFUSED), ${dead} (ECONNREFUSED)`),
      r.stderr,
    );
  });
});
