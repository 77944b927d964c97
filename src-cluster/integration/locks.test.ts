// Locks end to end on a real cluster with the real `gatectl` and `gate`: a device lock (the device
// enrolled with a swtpm, its login device-trusted) refuses SSH with the exact text and the device
// authentication of a new login; user and role locks refuse SSH and login; a live session is
// closed with the lock message; a lock with --ttl lifts by itself; device locks need device trust
// on and a known device. On the split and ha topologies a change reaches the proxies and the node
// over their watch streams, so each step waits until their copies applied it (awaitApplied)
// before relying on it. Every lock a test makes is lifted after it whether it passed or not, and
// the tests that lock people out lock their own users and roles, so one failure stays one failure.
import { after, afterEach, before, describe, test } from 'node:test';
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
/** Bound on waiting for a live session to start or to be cut: generous, the machine is shared. */
const SESSION_WAIT_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Polls `done` until it holds; fails after `ms` with `state()` as it is then. */
async function waitUntil(what: string, done: () => boolean, state: () => string, ms = SESSION_WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms; ${state()}`);
    await sleep(25);
  }
}

describe('locks', () => {
  const cluster = new TestCluster({ clusterName: 'locks', nodeName: NODE });
  let tpm: Swtpm;
  let deviceId = '';
  let assetTag = '';
  /** Locks made and not lifted yet: afterEach lifts them, so a failed test leaves none for the next. */
  const unlifted = new Set<string>();
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
  /** Creates a lock and resolves once the proxies and the node enforce it. */
  const lock = async (...args: string[]) => {
    const from = cluster.logs.length;
    const r = cluster.gatectl(['lock', ...args]);
    assert.equal(r.status, 0, r.stderr);
    const name = CREATED.exec(r.stdout)?.[1];
    assert.ok(name, `unexpected output: ${JSON.stringify(r.stdout)}`);
    unlifted.add(name);
    await cluster.awaitApplied({ kind: 'lock', name, type: 'put' }, from);
    return name;
  };
  /** Lifts a lock and resolves once the proxies and the node no longer hold it. */
  const unlock = async (name: string) => {
    const from = cluster.logs.length;
    const r = cluster.gatectl(['rm', `lock/${name}`]);
    assert.equal(r.status, 0, r.stderr);
    unlifted.delete(name);
    await cluster.awaitApplied({ kind: 'lock', name, type: 'delete' }, from);
  };
  const addRole = async (role: string) => {
    const from = cluster.logs.length;
    cluster.apply(
      `kind: role\nversion: v7\nmetadata: { name: ${role} }\nspec:\n  allow:\n    logins: [${LOGIN}]\n    node_labels: { '*': '*' }\n`,
    );
    await cluster.awaitApplied({ kind: 'role', name: role, type: 'put' }, from);
  };
  /** A user of its own for one test, logged in, known to the proxies and the node. */
  const addPerson = async (who: string, role: string) => {
    const from = cluster.logs.length;
    const add = cluster.gatectl(
      ['users', 'add', who, `--roles=${role}`, `--logins=${LOGIN}`, '--password-stdin'],
      `${who}-password-1\n`,
    );
    assert.equal(add.status, 0, add.stderr);
    const r = login(who);
    assert.equal(r.status, 0, r.stderr);
    await cluster.awaitApplied({ kind: 'user', name: who, type: 'put' }, from);
  };
  const setDeviceTrustMode = async (mode: string) => {
    const from = cluster.logs.length;
    cluster.apply(
      `kind: cluster_auth_preference\nversion: v2\nmetadata: { name: cluster-auth-preference }\nspec:\n  device_trust: { mode: ${mode} }\n`,
    );
    await cluster.awaitApplied({ kind: 'cluster_auth_preference', name: 'cluster-auth-preference', type: 'put' }, from);
  };

  before(async () => {
    tpm = await startSwtpm();
    await cluster.start();
    for (const role of ['lockers', 'others']) await addRole(role);
    // alice's machine is the enrolled device; bob is the bystander no test locks out.
    await addPerson('alice', 'lockers');
    await addPerson('bob', 'others');
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
  afterEach(async () => {
    for (const name of [...unlifted]) await unlock(name);
  });
  after(async () => {
    await cluster.destroy();
    await tpm?.stop();
  });

  test('a device lock refuses SSH with the exact text, is listed, and lifting it lets SSH through', async () => {
    assert.equal(ssh('alice', 'echo', 'in').stdout, 'in\n');
    const name = await lock(`--device=${deviceId}`);
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
    await unlock(name);
    assert.equal(ssh('alice', 'echo', 'in').stdout, 'in\n');
    assert.doesNotMatch(cluster.gatectl(['get', 'locks']).stdout, new RegExp(name));
  });

  test('a device lock refuses the device authentication of a new login, and enrollment of the device', async (t) => {
    // Whatever happens here, alice leaves device-trusted again: the later device tests need it.
    t.after(async () => {
      for (const name of [...unlifted]) await unlock(name);
      const again = login('alice');
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout + again.stderr, /this session is device-trusted/);
    });
    await lock(`--device=${assetTag}`, '--message=reported stolen');
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
  });

  for (const [kind, who, role] of [
    ['user', 'uma', 'others'],
    ['role', 'rita', 'incident'],
  ] as const) {
    test(`a ${kind} lock refuses SSH and login with its message`, async () => {
      if (kind === 'role') await addRole(role);
      await addPerson(who, role);
      const value = kind === 'user' ? who : role;
      const name = await lock(`--${kind}=${value}`, '--message=incident 42');
      const message = `lock targeting ${kind === 'user' ? 'User' : 'Role'}:"${value}" is in force: incident 42`;
      const r = ssh(who, 'echo', 'in');
      assert.notEqual(r.status, 0);
      assert.ok(r.stderr.split('\n').includes(denial(message)), r.stderr);
      // API calls with the certificates the user already holds are new access too.
      const ls = gateAs(who, ['ls']);
      assert.notEqual(ls.status, 0);
      assert.ok(ls.stderr.includes(message), ls.stderr);
      const l = login(who);
      assert.notEqual(l.status, 0);
      assert.ok(l.stderr.includes(message), l.stderr);
      assert.equal(ssh('bob', 'echo', 'in').stdout, 'in\n');
      assert.equal(gateAs('bob', ['ls']).status, 0);
      await unlock(name);
      const again = login(who);
      assert.equal(again.status, 0, again.stderr);
      assert.equal(ssh(who, 'echo', 'in').stdout, 'in\n');
    });
  }

  test('login and node locks refuse SSH', async () => {
    await addPerson('lena', 'others');
    for (const [flag, word, value] of [
      ['login', 'Login', LOGIN],
      ['node', 'Node', NODE],
    ]) {
      const name = await lock(`--${flag}=${value}`);
      const r = ssh('lena', 'echo', 'in');
      assert.ok(r.stderr.split('\n').includes(denial(`lock targeting ${word}:"${value}" is in force`)), r.stderr);
      await unlock(name);
    }
    assert.equal(ssh('lena', 'echo', 'in').stdout, 'in\n');
  });

  test('a lock with --ttl lifts by itself', async () => {
    await addPerson('tim', 'others');
    // gatectl takes the expiry from its own clock when it starts, so the lock lifts TTL_MS after
    // some moment between these two readings. Long enough that the refused attempt runs inside
    // the window on a loaded machine, where gatectl and gate each take seconds to start.
    const TTL_MS = 30_000;
    const liftsAfter = Date.now() + TTL_MS;
    const name = await lock('--user=tim', `--ttl=${TTL_MS / 1000}s`);
    const liftsBy = Date.now() + TTL_MS;
    const refused = ssh('tim', 'echo', 'in');
    const late =
      Date.now() >= liftsAfter ? ' (the attempt ended after the lock may have lifted: too slow for the TTL)' : '';
    assert.match(refused.stderr, /lock targeting User:"tim" is in force/, refused.stderr + late);
    // Lifted by itself: nobody removes it, so afterEach must not try to.
    unlifted.delete(name);
    await sleep(liftsBy + 500 - Date.now());
    assert.equal(ssh('tim', 'echo', 'in').stdout, 'in\n');
    assert.doesNotMatch(cluster.gatectl(['get', 'locks']).stdout, new RegExp(name));
  });

  for (const [who, role, target] of [
    ['alice', 'lockers', () => `--device=${deviceId}`],
    ['sam', 'cut', () => '--role=cut'],
  ] as const) {
    test(`a live session of ${who} is closed with the lock message when ${target().split('=')[0]} is locked`, async () => {
      if (who === 'sam') {
        await addRole(role);
        await addPerson(who, role);
      }
      const from = cluster.logs.length;
      const child = spawn(process.execPath, cluster.gateArgv(['ssh', `${LOGIN}@${NODE}`, 'echo started; sleep 300']), {
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
      let exitCode: number | null | undefined;
      child.once('exit', (code) => (exitCode = code));
      try {
        await cluster.waitForLog(/session started/, SESSION_WAIT_MS, from);
        await waitUntil(
          "the session's first output",
          () => stdout !== '',
          () => `stderr: ${stderr}`,
        );
        assert.equal(stdout, 'started\n', stderr);
        await lock(target(), '--message=session cut');
        // The node has the lock now (lock() waited for it); the cut follows from its watcher.
        await waitUntil(
          'closing the session',
          () => exitCode !== undefined,
          () => `stderr: ${stderr}`,
        );
        assert.notEqual(exitCode, 0);
        assert.match(stderr, /lock targeting (Device|Role):"[^"]+" is in force: session cut/);
      } finally {
        child.kill('SIGKILL');
      }
    });
  }

  test('a live terminal session (gate ssh -t in a pty) shows the lock message on its terminal, then closes', async () => {
    const term = pty.spawn(
      process.execPath,
      cluster.gateArgv(['ssh', '-t', `${LOGIN}@${NODE}`, 'echo started; sleep 300']),
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
    let exitCode: number | undefined;
    term.onExit(({ exitCode: code }) => (exitCode = code));
    try {
      await waitUntil(
        'starting the terminal session',
        () => screen.includes('started'),
        () => `screen: ${JSON.stringify(screen)}`,
      );
      await lock('--login=' + LOGIN, '--message=terminal cut');
      await waitUntil(
        'closing the terminal session',
        () => exitCode !== undefined,
        () => `screen: ${JSON.stringify(screen)}`,
      );
      // The message sits on its own line (the local pty turns the node's \r\n into \r\r\n).
      const line = new RegExp(`\\r\\r?\\nlock targeting Login:"${LOGIN}" is in force: terminal cut\\r\\r?\\n`);
      assert.match(screen, line);
    } finally {
      term.kill();
    }
  });

  test('a device lock needs device trust on and a device the inventory knows', async (t) => {
    t.after(() => setDeviceTrustMode('optional'));
    let r = cluster.gatectl(['lock', '--device=no-such-device']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot lock device "no-such-device": no device with this id or asset tag/);
    await setDeviceTrustMode('off');
    r = cluster.gatectl(['lock', `--device=${deviceId}`]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot lock a device: device trust is off in this cluster/);
    await setDeviceTrustMode('optional');
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
