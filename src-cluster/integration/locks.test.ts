// Locks end to end on a real cluster with the real `gatectl` and `gate`: a device lock (the device
// enrolled with a swtpm, its login device-trusted) refuses SSH with the exact text and the device
// authentication of a new login; user and role locks refuse SSH and login; a live session is
// closed with the lock message; a lock with --ttl lifts by itself; device locks need device trust
// on and a known device.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import pty from 'node-pty';
import { TestCluster } from './harness.ts';
import { startSwtpm, type Swtpm } from '../../test-support/swtpm.ts';

const LOGIN = userInfo().username;
const NODE = 'lock-node';
const CREATED = /^Created a lock with name "([0-9a-f-]{36})"\.\n$/;
const denial = (message: string) => `ERROR: ssh: rejected: administratively prohibited (${message})`;

describe('locks', () => {
  const cluster = new TestCluster({ clusterName: 'locks', nodeName: NODE });
  let tpm: Swtpm;
  let deviceId = '';
  let assetTag = '';
  const home = (who: string) => join(cluster.dir, `home-${who}`);
  const gateAs = (who: string, args: string[], input = '') =>
    cluster.gate(args, input, { GATEHOUSE_HOME: home(who), GATEHOUSE_TPM_TCTI: tpm.tcti });
  const login = (who: string) =>
    gateAs(
      who,
      ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', who, '--password-stdin'],
      `${who}-password-1\n`,
    );
  const ssh = (who: string, ...command: string[]) => gateAs(who, ['ssh', `${LOGIN}@${NODE}`, ...command]);
  const lock = (...args: string[]) => {
    const r = cluster.gatectl(['lock', ...args]);
    assert.equal(r.status, 0, r.stderr);
    const name = CREATED.exec(r.stdout)?.[1];
    assert.ok(name, `unexpected output: ${JSON.stringify(r.stdout)}`);
    return name;
  };
  const unlock = (name: string) => {
    const r = cluster.gatectl(['rm', `lock/${name}`]);
    assert.equal(r.status, 0, r.stderr);
  };
  const setDeviceTrustMode = (mode: string) =>
    cluster.apply(
      `kind: cluster_auth_preference\nversion: v2\nmetadata: { name: cluster-auth-preference }\nspec:\n  device_trust: { mode: ${mode} }\n`,
    );

  before(async () => {
    tpm = await startSwtpm();
    await cluster.start();
    for (const role of ['lockers', 'others']) {
      cluster.apply(
        `kind: role\nversion: v7\nmetadata: { name: ${role} }\nspec:\n  allow:\n    logins: [${LOGIN}]\n    node_labels: { '*': '*' }\n`,
      );
    }
    for (const [who, role] of [
      ['alice', 'lockers'],
      ['bob', 'others'],
    ] as const) {
      const add = cluster.gatectl(
        ['users', 'add', who, `--roles=${role}`, `--logins=${LOGIN}`, '--password-stdin'],
        `${who}-password-1\n`,
      );
      assert.equal(add.status, 0, add.stderr);
      const r = login(who);
      assert.equal(r.status, 0, r.stderr);
    }
    // alice's machine is an enrolled device: her logins are device-trusted.
    assetTag = gateAs('alice', ['device', 'asset-tag']).stdout.trim();
    const added = cluster.gatectl(['devices', 'add', '--asset-tag', assetTag, '--os', 'linux', '--enroll']);
    deviceId = /^Device ID: (\S+)$/m.exec(added.stdout)?.[1] ?? '';
    const token = /^ {2}(\S{20,})$/m.exec(added.stdout)?.[1];
    assert.ok(deviceId && token, added.stdout + added.stderr);
    let r = gateAs('alice', ['device', 'enroll', '--token-stdin'], `${token}\n`);
    assert.equal(r.status, 0, r.stderr);
    r = login('alice');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /this session is device-trusted/);
  });
  after(async () => {
    await cluster.destroy();
    await tpm?.stop();
  });

  test('a device lock refuses SSH with the exact text, is listed, and lifting it lets SSH through', () => {
    assert.equal(ssh('alice', 'echo', 'in').stdout, 'in\n');
    const name = lock(`--device=${deviceId}`);
    const r = ssh('alice', 'echo', 'in');
    assert.notEqual(r.status, 0);
    assert.ok(r.stderr.split('\n').includes(denial(`lock targeting Device:"${deviceId}" is in force`)), r.stderr);
    // Other people's machines are not affected.
    assert.equal(ssh('bob', 'echo', 'in').stdout, 'in\n');
    const list = cluster.gatectl(['get', 'locks']);
    assert.equal(list.status, 0, list.stderr);
    const row = list.stdout.split('\n').find((l) => l.startsWith(name));
    assert.ok(row, list.stdout);
    assert.match(row, new RegExp(`Device:"${deviceId}"\\s+never\\s+gatehouse-admin`));
    assert.match(list.stdout, /^ID\s+Target\s+Expires\s+Message\s+Created By/);
    unlock(name);
    assert.equal(ssh('alice', 'echo', 'in').stdout, 'in\n');
    assert.doesNotMatch(cluster.gatectl(['get', 'locks']).stdout, new RegExp(name));
  });

  test('a device lock refuses the device authentication of a new login, and enrollment of the device', () => {
    const name = lock(`--device=${assetTag}`, '--message=reported stolen');
    const message = `lock targeting Device:"${deviceId}" is in force: reported stolen`;
    const r = login('alice');
    const out = r.stdout + r.stderr;
    assert.match(out, new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.doesNotMatch(out, /this session is device-trusted/);
    const token = /^ {2}(\S{20,})$/m.exec(cluster.gatectl(['devices', 'enroll', '--device-id', deviceId]).stdout)?.[1];
    assert.ok(token);
    const enroll = gateAs('alice', ['device', 'enroll', '--token-stdin'], `${token}\n`);
    assert.notEqual(enroll.status, 0);
    assert.match(enroll.stderr, /lock targeting Device:".*" is in force: reported stolen/);
    unlock(name);
    const again = login('alice');
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout + again.stderr, /this session is device-trusted/);
  });

  for (const [kind, value] of [
    ['user', 'bob'],
    ['role', 'others'],
  ] as const) {
    test(`a ${kind} lock refuses SSH and login with its message`, () => {
      const name = lock(`--${kind}=${value}`, '--message=incident 42');
      const message = `lock targeting ${kind === 'user' ? 'User' : 'Role'}:"${value}" is in force: incident 42`;
      const r = ssh('bob', 'echo', 'in');
      assert.notEqual(r.status, 0);
      assert.ok(r.stderr.split('\n').includes(denial(message)), r.stderr);
      // API calls with the certificates bob already holds are new access too.
      const ls = gateAs('bob', ['ls']);
      assert.notEqual(ls.status, 0);
      assert.ok(ls.stderr.includes(message), ls.stderr);
      const l = login('bob');
      assert.notEqual(l.status, 0);
      assert.ok(l.stderr.includes(message), l.stderr);
      assert.equal(ssh('alice', 'echo', 'in').stdout, 'in\n');
      assert.equal(gateAs('alice', ['ls']).status, 0);
      unlock(name);
      assert.equal(login('bob').status, 0);
      assert.equal(ssh('bob', 'echo', 'in').stdout, 'in\n');
    });
  }

  test('login and node locks refuse SSH', () => {
    for (const [flag, word, value] of [
      ['login', 'Login', LOGIN],
      ['node', 'Node', NODE],
    ]) {
      const name = lock(`--${flag}=${value}`);
      const r = ssh('bob', 'echo', 'in');
      assert.ok(r.stderr.split('\n').includes(denial(`lock targeting ${word}:"${value}" is in force`)), r.stderr);
      unlock(name);
    }
    assert.equal(ssh('bob', 'echo', 'in').stdout, 'in\n');
  });

  test('a lock with --ttl lifts by itself', async () => {
    // Long enough that the refused attempt surely runs inside the window on a loaded machine
    // (gatectl and gate each take a second or more to start there); 2 s was not.
    const TTL_MS = 10_000;
    const name = lock('--user=bob', `--ttl=${TTL_MS / 1000}s`);
    const expiresBy = Date.now() + TTL_MS;
    assert.match(ssh('bob', 'echo', 'in').stderr, /lock targeting User:"bob" is in force/);
    await new Promise((r) => setTimeout(r, expiresBy + 500 - Date.now()));
    assert.equal(ssh('bob', 'echo', 'in').stdout, 'in\n');
    assert.doesNotMatch(cluster.gatectl(['get', 'locks']).stdout, new RegExp(name));
  });

  for (const [who, target] of [
    ['alice', () => `--device=${deviceId}`],
    ['bob', () => '--role=others'],
  ] as const) {
    test(`a live session of ${who} is closed with the lock message when ${target().split('=')[0]} is locked`, async () => {
      const from = cluster.logs.length;
      const child = spawn(process.execPath, cluster.gateArgv(['ssh', `${LOGIN}@${NODE}`, 'echo started; sleep 30']), {
        env: {
          ...process.env,
          GATEHOUSE_DATA_DIR: cluster.dataDir,
          GATEHOUSE_HOME: home(who),
          GATEHOUSE_TPM_TCTI: tpm.tcti,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        await cluster.waitForLog(/session started/, 15_000, from);
        const deadline = Date.now() + 5000;
        while (!stdout.includes('started') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.equal(stdout, 'started\n', stderr);
        const t0 = Date.now();
        const name = lock(target(), '--message=session cut');
        const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
        const elapsed = Date.now() - t0;
        assert.notEqual(code, 'timeout', `session still open; stderr: ${stderr}`);
        assert.notEqual(code, 0);
        assert.match(stderr, /lock targeting (Device|Role):"[^"]+" is in force: session cut/);
        // gatectl's own start-up is most of this; the bench measures the cut itself.
        assert.ok(elapsed < 8000, `took ${elapsed} ms`);
        unlock(name);
      } finally {
        child.kill('SIGKILL');
      }
    });
  }

  test('a live terminal session (gate ssh -t in a pty) shows the lock message on its terminal, then closes', async () => {
    const term = pty.spawn(
      process.execPath,
      cluster.gateArgv(['ssh', '-t', `${LOGIN}@${NODE}`, 'echo started; sleep 30']),
      {
        cols: 100,
        rows: 30,
        env: { ...process.env, GATEHOUSE_DATA_DIR: cluster.dataDir, GATEHOUSE_HOME: home('bob') } as Record<
          string,
          string
        >,
      },
    );
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    try {
      const deadline = Date.now() + 15_000;
      while (!screen.includes('started')) {
        assert.ok(Date.now() < deadline, `session did not start: ${screen}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const name = lock('--login=' + LOGIN, '--message=terminal cut');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000))]);
      assert.notEqual(code, 'timeout', `terminal session still open: ${screen}`);
      // The message sits on its own line (the local pty turns the node's \r\n into \r\r\n).
      const line = new RegExp(`\\r\\r?\\nlock targeting Login:"${LOGIN}" is in force: terminal cut\\r\\r?\\n`);
      assert.match(screen, line);
      unlock(name);
    } finally {
      term.kill();
    }
  });

  test('a device lock needs device trust on and a device the inventory knows', () => {
    let r = cluster.gatectl(['lock', '--device=no-such-device']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot lock device "no-such-device": no device with this id or asset tag/);
    setDeviceTrustMode('off');
    r = cluster.gatectl(['lock', `--device=${deviceId}`]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot lock a device: device trust is off in this cluster/);
    setDeviceTrustMode('optional');
    r = cluster.gatectl(['lock', '--user=bob', '--role=others']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /give exactly one target/);
    assert.equal(
      cluster
        .gatectl(['get', 'locks'])
        .stdout.split('\n')
        .filter((l) => /Device:|User:/.test(l)).length,
      0,
    );
  });
});
