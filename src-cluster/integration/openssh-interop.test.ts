// Certificates the cluster issues are plain OpenSSH ones: a stock sshd trusting the cluster's
// user CA accepts what `gate login` stored, and the stock ssh client reaches a Gatehouse node
// through the proxy (`gate proxy ssh` as ProxyCommand), trusting it via the host CA only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { TestCluster } from './harness.ts';
import { startSshd, type Sshd } from '../../scripts/integration/openssh-harness.ts';
import { requireTool, tempDir } from '../../test-support/sshcert-testkit.ts';

const LOGIN = userInfo().username;
const ROOT = new URL('../../', import.meta.url).pathname;

describe('OpenSSH interop with cluster-issued certificates', () => {
  const cluster = new TestCluster({ nodeName: 'interop' });
  const tmp = tempDir('gatehouse-interop-');
  let sshd: Sshd;
  let key = '';
  let cert = '';

  before(async () => {
    requireTool('ssh');
    await cluster.start();
    const r = cluster.addUserAndLogin('olga', 'olga-password-1', 'access', LOGIN);
    assert.equal(r.status, 0, r.stderr);
    const ca = cluster.gatectl(['auth', 'export', '--type=user']);
    assert.equal(ca.status, 0, ca.stderr);
    sshd = await startSshd(tmp, ca.stdout.trim());
    // What `gate login` left on disk, found the way a user would: the key beside its certificate.
    const certPath = readdirSync(cluster.home, { recursive: true, encoding: 'utf8' }).find((f) =>
      f.endsWith('key-cert.pub'),
    );
    assert.ok(certPath, 'gate login stored no key-cert.pub');
    cert = join(cluster.home, certPath);
    key = cert.replace(/-cert\.pub$/, '');
  });
  after(async () => {
    sshd?.stop();
    await cluster.destroy();
    tmp.cleanup();
  });

  const ssh = (args: string[]) =>
    spawnSync(
      'ssh',
      ['-i', key, '-o', `CertificateFile=${cert}`, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', ...args],
      {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, GATEHOUSE_HOME: cluster.home },
      },
    );

  const proxyCommand = `${process.execPath} ${join(ROOT, 'bin/gate.mjs')} proxy ssh %h`;
  /** Stock ssh to a node through `gate proxy ssh`, trusting only `caType`'s CA in known_hosts. */
  const sshViaProxy = (caType: 'host' | 'user', args: string[], extra: string[] = []) => {
    const knownHosts = join(cluster.dir, `known_hosts_${caType}`);
    writeFileSync(
      knownHosts,
      `@cert-authority * ${cluster.gatectl(['auth', 'export', `--type=${caType}`]).stdout.trim()}\n`,
    );
    return ssh([
      ...extra,
      '-o',
      `ProxyCommand=${proxyCommand}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      `${LOGIN}@interop`,
      ...args,
    ]);
  };

  const waitForSshdLog = async (re: RegExp) => {
    for (let i = 0; i < 100 && !re.test(sshd.log()); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(sshd.log(), re);
  };

  test('stock sshd with TrustedUserCAKeys = cluster user CA accepts the gate login certificate', async () => {
    const r = ssh([
      '-p',
      String(sshd.port),
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      `${LOGIN}@127.0.0.1`,
      'echo',
      'stock-sshd-ok',
    ]);
    assert.equal(r.status, 0, `${r.stderr}\n${sshd.log()}`);
    assert.equal(r.stdout.trim(), 'stock-sshd-ok');
    await waitForSshdLog(/Accepted publickey for \S+ .*ECDSA-CERT SHA256:\S+ ID olga/);
  });

  test('stock sshd refuses a login that is not among the certificate principals', () => {
    const r = ssh([
      '-p',
      String(sshd.port),
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      'daemon@127.0.0.1',
      'true',
    ]);
    assert.equal(r.status, 255);
    assert.match(r.stderr, /Permission denied/);
  });

  test('stock ssh reaches the node through the proxy and trusts it through the host CA', () => {
    const r = sshViaProxy('host', ['id', '-un']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), LOGIN);
    // Another CA in known_hosts: the node's host certificate no longer vouches for it.
    const refused = sshViaProxy('user', ['true']);
    assert.equal(refused.status, 255);
    assert.match(refused.stderr, /Host key verification failed/);
  });

  test('the stock ssh client sees a denial as "administratively prohibited" with the reason', () => {
    // The certificate still names the login; the role it carries now denies it, and the node
    // asks the authorizer with the roles as they are now.
    const access = join(cluster.dir, 'access.yaml');
    writeFileSync(
      access,
      `kind: role\nversion: v7\nmetadata:\n  name: access\nspec:\n  allow:\n    logins: ['{{internal.logins}}']\n    node_labels:\n      '*': '*'\n  deny:\n    logins: [${LOGIN}]\n`,
    );
    const upd = cluster.gatectl(['create', '-f', access, '--force']);
    assert.equal(upd.status, 0, upd.stderr);
    const denied = sshViaProxy('host', ['true'], ['-o', 'LogLevel=INFO']);
    assert.equal(denied.status, 255);
    assert.match(denied.stderr, /administratively prohibited: login "\S+" is denied by role access/);
    const viaGate = cluster.gate(['ssh', `${LOGIN}@interop`, 'true']);
    assert.notEqual(viaGate.status, 0);
    assert.match(
      viaGate.stderr,
      /ERROR: ssh: rejected: administratively prohibited \(login "\S+" is denied by role access\)/,
    );
  });
});
