// The whole path a user takes: gatectl adds a user, gate logs in, lists nodes and runs commands
// through proxy → node on real sockets, a real PTY and real shells.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { TestCluster } from './harness.ts';

const LOGIN = userInfo().username;

describe('gate → proxy → node', () => {
  const cluster = new TestCluster({ nodeLabels: { env: 'test', team: 'core' } });
  before(async () => {
    await cluster.start();
    const from = cluster.logs.length;
    const r = cluster.addUserAndLogin('alice', 'alice-password-1', 'access', `${LOGIN},nosuchuser`);
    assert.equal(r.status, 0, `login failed: ${r.stderr}\n${r.stdout}`);
    // Split and ha: the node authorizes from its copy of the users, fed over its watch stream.
    await cluster.awaitApplied({ kind: 'user', name: 'alice', type: 'put' }, from);
  });
  after(() => cluster.destroy());

  test('gate status shows the logged-in identity', () => {
    const r = cluster.gate(['status']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /alice/);
    assert.match(r.stdout, /access/);
    assert.match(r.stdout, new RegExp(LOGIN));
  });

  test('gate ls lists the node with its labels, name first', () => {
    const r = cluster.gate(['ls']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^Node\b/);
    const row = lines.find((l) => l.startsWith(cluster.nodeName));
    assert.ok(row, r.stdout);
    assert.match(row!, /env=test/);
    assert.match(row!, /team=core/);
  });

  test('gate ssh runs a command as the login and propagates output and exit status', () => {
    let r = cluster.gate(['ssh', `${LOGIN}@${cluster.nodeName}`, 'id', '-un']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), LOGIN);
    r = cluster.gate(['ssh', '-l', LOGIN, cluster.nodeName, 'echo', 'hello through the proxy']);
    assert.equal(r.stdout, 'hello through the proxy\n');
    r = cluster.gate(['ssh', `${LOGIN}@${cluster.nodeName}`, 'echo out; echo err >&2; exit 7']);
    assert.equal(r.status, 7);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('the proxy hands SSH to the node of its own process, and relays over TCP to a node elsewhere', async () => {
    const from = cluster.logs.length;
    const r = cluster.gate(['ssh', `${LOGIN}@${cluster.nodeName}`, 'true']);
    assert.equal(r.status, 0, r.stderr);
    // Single process: no loopback hop; split: the node is another process, so dialed and relayed.
    const [taken, notTaken] =
      cluster.topology === 'single'
        ? [/ssh handed over in-process/, /ssh relay started/]
        : [/ssh relay started/, /ssh handed over in-process/];
    await cluster.waitForLog(taken, 10_000, from);
    // The node authenticated the SSH certificate itself either way, and says which cipher it agreed.
    await cluster.waitForLog(/ssh authentication accepted.*\bcipher=\S+/, 10_000, from);
    assert.doesNotMatch(cluster.logs.slice(from), notTaken);
  });

  test('gate ssh moves large output and input intact through the proxy (full-size packets both ways)', () => {
    // 575 KiB: many packets, yet under spawnSync's 1 MiB output limit.
    let r = cluster.gate(['ssh', `${LOGIN}@${cluster.nodeName}`, 'seq 1 100000']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines.length, 100_001);
    assert.equal(lines[99_999], '100000');
    const input = randomBytes(6 * 1024 * 1024).toString('base64');
    r = cluster.gate(['ssh', `${LOGIN}@${cluster.nodeName}`, 'sha256sum'], input);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split(' ')[0], createHash('sha256').update(input).digest('hex'));
  });

  test('a login the role does not grant is refused as administratively prohibited', () => {
    const r = cluster.gate(['ssh', `daemon@${cluster.nodeName}`, 'true']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /ERROR: /);
    assert.match(r.stderr, /daemon/);
  });

  test('an OS user the node does not have is refused with a reason', () => {
    const r = cluster.gate(['ssh', `nosuchuser@${cluster.nodeName}`, 'true']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /nosuchuser/);
  });

  test('an unknown node is "node not found"', () => {
    const r = cluster.gate(['ssh', `${LOGIN}@ghost`, 'true']);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /ERROR: node "ghost" not found/);
  });

  test('wrong passwords get one generic message, then a rate limit', async () => {
    const add = cluster.gatectl(
      ['users', 'add', 'bob', '--roles=access', `--logins=${LOGIN}`, '--password-stdin'],
      'bob-password-1\n',
    );
    assert.equal(add.status, 0, add.stderr);
    const env = { GATEHOUSE_HOME: `${cluster.dir}/bob-home` };
    const attempt = (user: string, pw: string) =>
      cluster.gate(
        ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', user, '--password-stdin'],
        pw + '\n',
        env,
      );
    const wrongPw = attempt('bob', 'nope-nope-nope');
    const noUser = attempt('nobody-here', 'nope-nope-nope');
    assert.equal(wrongPw.status, 4);
    assert.match(wrongPw.stderr, /invalid user name, password or one-time code/);
    assert.equal(noUser.stderr, wrongPw.stderr, 'unknown user and wrong password look the same');
    for (let i = 0; i < 4; i++) attempt('bob', 'still-wrong-' + i);
    const limited = attempt('bob', 'bob-password-1');
    assert.equal(limited.status, 4);
    assert.match(limited.stderr, /too many failed login attempts; try again in \d+ s/);
    // spawnSync blocked our event loop: let the daemon's log lines arrive before reading them.
    await cluster.waitForLog(/login failed .*user=bob .*reason="wrong password"/);
  });
});
