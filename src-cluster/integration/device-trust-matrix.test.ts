// Device trust enforcement end to end: every cluster mode × role mode × identity, each an SSH
// login through the proxy with the real `gate`, asserting allow or the exact denial people see.
// The trusted identity is real: this machine enrolled with `gate device enroll` against a swtpm,
// then `gate login` made device-trusted certificates. The stock OpenSSH client sees the same denial.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { TestCluster } from './harness.ts';
import { startSwtpm, type Swtpm } from '../../test-support/swtpm.ts';
import { requireTool } from '../../test-support/sshcert-testkit.ts';

const LOGIN = userInfo().username;
const ROOT = new URL('../../', import.meta.url).pathname;
const DENIAL = 'ERROR: ssh: rejected: administratively prohibited (unauthorized device)';
const CLUSTER_MODES = ['off', 'optional', 'required', 'required-for-humans'] as const;
const ROLE_MODES = [undefined, 'optional', 'required'] as const;
type Who = 'trusted' | 'untrusted' | 'bot';

/** What the cluster must decide, written out from the rules rather than computed by them. */
function expectAllowed(cluster: (typeof CLUSTER_MODES)[number], role: (typeof ROLE_MODES)[number], who: Who): boolean {
  if (who === 'trusted' || cluster === 'off') return true;
  if (cluster === 'required') return false;
  if (cluster === 'required-for-humans') return who === 'bot' && role !== 'required';
  return role !== 'required'; // optional
}

describe('device trust enforcement: cluster mode × role mode × identity, SSH through the proxy', () => {
  const cluster = new TestCluster({ clusterName: 'matrix', nodeName: 'matrix-node' });
  let tpm: Swtpm;
  const homes: Record<Who, string> = { trusted: '', untrusted: '', bot: '' };
  const gateAs = (who: Who, args: string[], input = '') =>
    cluster.gate(args, input, { GATEHOUSE_HOME: homes[who], GATEHOUSE_TPM_TCTI: tpm.tcti });

  // Each change is made through auth (ha: auth A) and relied on at the node and proxies (ha: fed
  // by auth B), so each waits until their copies applied it (awaitApplied).
  const setRoleMode = async (mode: string | undefined) => {
    const from = cluster.logs.length;
    cluster.apply(
      [
        'kind: role',
        'version: v7',
        'metadata: { name: matrix }',
        'spec:',
        '  allow:',
        `    logins: [${LOGIN}]`,
        "    node_labels: { '*': '*' }",
        ...(mode ? ['  options:', `    device_trust_mode: ${mode}`] : []),
        '',
      ].join('\n'),
    );
    await cluster.awaitApplied({ kind: 'role', name: 'matrix', type: 'put' }, from);
  };
  const setClusterMode = async (mode: string) => {
    const from = cluster.logs.length;
    const file = join(cluster.dir, `cap-${mode}.yaml`);
    writeFileSync(
      file,
      `kind: cluster_auth_preference\nversion: v2\nmetadata: { name: cluster-auth-preference }\nspec:\n  type: local\n  second_factor: 'off'\n  device_trust: { mode: ${mode} }\n`,
    );
    const r = cluster.gatectl(['create', '-f', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'cluster auth preference has been updated');
    await cluster.awaitApplied({ kind: 'cluster_auth_preference', name: 'cluster-auth-preference', type: 'put' }, from);
  };

  before(async () => {
    requireTool('ssh');
    tpm = await startSwtpm();
    await cluster.start();
    await setRoleMode(undefined);
    for (const who of ['trusted', 'untrusted', 'bot'] as const) {
      homes[who] = join(cluster.dir, `home-${who}`);
      const name = who === 'bot' ? 'robot' : who === 'trusted' ? 'alice' : 'bob';
      const password = `${name}-password-1`;
      const from = cluster.logs.length;
      const add = cluster.gatectl(
        [
          'users',
          'add',
          name,
          '--roles=matrix',
          `--logins=${LOGIN}`,
          '--password-stdin',
          ...(who === 'bot' ? ['--bot'] : []),
        ],
        password + '\n',
      );
      assert.equal(add.status, 0, add.stderr);
      await cluster.awaitApplied({ kind: 'user', name, type: 'put' }, from);
      const login = () =>
        gateAs(
          who,
          ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', name, '--password-stdin'],
          password + '\n',
        );
      let r = login();
      assert.equal(r.status, 0, r.stderr);
      if (who !== 'trusted') continue;
      const tag = gateAs(who, ['device', 'asset-tag']).stdout.trim();
      const added = cluster.gatectl(['devices', 'add', '--asset-tag', tag, '--os', 'linux', '--enroll']);
      const token = /^ {2}(\S{20,})$/m.exec(added.stdout)?.[1];
      assert.ok(token, added.stdout + added.stderr);
      r = gateAs(who, ['device', 'enroll', '--token-stdin'], `${token}\n`);
      assert.equal(r.status, 0, r.stderr);
      r = login();
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout + r.stderr, /this session is device-trusted/);
    }
  });
  after(async () => {
    await cluster.destroy();
    await tpm?.stop();
  });

  for (const clusterMode of CLUSTER_MODES) {
    test(`cluster mode ${clusterMode}`, async () => {
      await setClusterMode(clusterMode);
      const wrong: string[] = [];
      for (const roleMode of ROLE_MODES) {
        await setRoleMode(roleMode);
        for (const who of ['trusted', 'untrusted', 'bot'] as const) {
          const r = gateAs(who, ['ssh', `${LOGIN}@matrix-node`, 'echo', 'in']);
          const allowed = expectAllowed(clusterMode, roleMode, who);
          const cell = `${clusterMode} × role ${roleMode ?? 'unset'} × ${who}`;
          if (allowed && (r.status !== 0 || r.stdout !== 'in\n'))
            wrong.push(`${cell}: expected allowed, got ${r.status}: ${r.stderr}`);
          if (!allowed && (r.status === 0 || !r.stderr.split('\n').includes(DENIAL)))
            wrong.push(`${cell}: expected "${DENIAL}", got ${r.status}: ${r.stderr}`);
        }
      }
      assert.deepEqual(wrong, []);
    });
  }

  test('the stock OpenSSH client through gate proxy ssh shows the same denial', async () => {
    await setClusterMode('required');
    await setRoleMode(undefined);
    const profiles = join(homes.untrusted, 'profiles');
    const [proxyDir] = readdirSync(profiles);
    const dir = join(profiles, proxyDir!, 'bob');
    const knownHosts = join(cluster.dir, 'known_hosts');
    writeFileSync(
      knownHosts,
      `@cert-authority * ${cluster.gatectl(['auth', 'export', '--type=host']).stdout.trim()}\n`,
    );
    const ssh = (home: string, keyDir: string) =>
      spawnSync(
        'ssh',
        [
          '-i',
          join(keyDir, 'key'),
          '-o',
          `CertificateFile=${join(keyDir, 'key-cert.pub')}`,
          '-o',
          'BatchMode=yes',
          '-o',
          'IdentitiesOnly=yes',
          '-o',
          `ProxyCommand=${process.execPath} ${join(ROOT, 'bin/gate.mjs')} proxy ssh %h`,
          '-o',
          'StrictHostKeyChecking=yes',
          '-o',
          `UserKnownHostsFile=${knownHosts}`,
          `${LOGIN}@matrix-node`,
          'echo in',
        ],
        { encoding: 'utf8', timeout: 30_000, env: { ...process.env, GATEHOUSE_HOME: home } },
      );
    const denied = ssh(homes.untrusted, dir);
    assert.notEqual(denied.status, 0);
    assert.match(denied.stderr, /open failed: administratively prohibited: unauthorized device/);
    const trustedDir = join(homes.trusted, 'profiles', readdirSync(join(homes.trusted, 'profiles'))[0]!, 'alice');
    const allowed = ssh(homes.trusted, trustedDir);
    assert.equal(allowed.status, 0, allowed.stderr);
    assert.equal(allowed.stdout, 'in\n');
  });
});
