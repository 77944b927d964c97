// Issue 11 #7, #8 and #15 end to end on a real `gatehouse start` daemon, through its API and the
// real `gate` and `gatectl`: six concurrent SetPasswordWithToken calls with one token (exactly one
// wins); the account lockout with its lock in `gatectl get locks`, the count and the lock kept
// across daemon restarts, the right password answered "locked", and `gatectl rm lock/NAME`
// lifting it; the password policy's messages as an admin sees them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { AuthService } from '../../../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ErrorCode, isGatehouseError } from '../../../../src-shared/errors.ts';
import { fromConnectError } from '../../../api/errors.ts';
import { loadAdminIdentity } from '../../../cli/admin-client.ts';
import { TestCluster } from '../../../integration/harness.ts';

// gatectl prints the one-time token on a line of its own.
const TOKEN_LINE = /^\s+([0-9a-f]{32,})$/m;
const LOCKED =
  /too many failed login attempts; try again in \d+ s \(user "bob" is locked; an administrator can lift the lock\)/;

describe('login hardening', () => {
  const cluster = new TestCluster({ clusterName: 'login-hardening' });
  const ok = (r: { status: number; stdout: string; stderr: string }) => {
    assert.equal(r.status, 0, r.stderr);
    return r;
  };
  const login = (user: string, password: string) =>
    cluster.gate(
      ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', user, '--password-stdin'],
      `${password}\n`,
      {
        GATEHOUSE_HOME: `${cluster.dir}/home-${user}`,
      },
    );
  /** A client of the public API that trusts the cluster's host CA and presents no certificate. */
  const anonymousClient = () => {
    const { file } = loadAdminIdentity({ dataDir: cluster.dataDir });
    return createClient(
      AuthService,
      createConnectTransport({
        httpVersion: '2',
        baseUrl: `https://${cluster.proxyAddr}`,
        nodeOptions: { ca: file.tls_host_ca_pem },
      }),
    );
  };

  before(() => cluster.start());
  after(() => cluster.destroy());

  test('six concurrent SetPasswordWithToken calls with one token: exactly one succeeds', async () => {
    const added = ok(cluster.gatectl(['users', 'add', 'carol', '--roles=access']));
    const token = TOKEN_LINE.exec(added.stdout)?.[1];
    assert.ok(token, added.stdout);
    const client = anonymousClient();
    const passwords = Array.from({ length: 6 }, (_, i) => `carol's password number ${i}`);
    const results = await Promise.allSettled(
      passwords.map((password) => client.setPasswordWithToken({ token, password })),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.equal(won.length, 1, `calls that succeeded: ${JSON.stringify(won)}`);
    for (const r of results) {
      if (r.status === 'fulfilled') {
        assert.equal(r.value.user, 'carol');
        continue;
      }
      const e = fromConnectError(r.reason);
      assert.ok(isGatehouseError(e) && e.code === ErrorCode.BAD_CREDENTIALS, String(r.reason));
      assert.match(e.message, /password-set token is invalid, used or expired; ask your administrator for a new one/);
    }
    // Only the winner's password was set.
    ok(login('carol', passwords[won[0]!]!));
    const loser = passwords[(won[0]! + 1) % passwords.length]!;
    assert.match(login('carol', loser).stderr, /invalid user name, password or one-time code/);
  });

  test('the password policy refuses short and common passwords and says why', () => {
    let r = cluster.gatectl(['users', 'add', 'dave', '--roles=access', '--password-stdin'], 'elevenchars\n');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /password too short: use at least 12 characters \(this one has 11\)/);
    r = cluster.gatectl(['users', 'add', 'dave', '--roles=access', '--password-stdin'], 'Password1234\n');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /password too common: it is on a list of the most used leaked passwords/);
    ok(cluster.gatectl(['users', 'add', 'dave', '--roles=access', '--password-stdin'], 'dave has a fine password\n'));
  });

  test('five failures lock the user across restarts; the right password says locked; gatectl rm lock lifts it', async () => {
    const password = 'bob-password-is-long';
    ok(cluster.gatectl(['users', 'add', 'bob', '--roles=access', '--password-stdin'], `${password}\n`));
    const wrong = (i: number) => {
      const r = login('bob', `wrong password ${i}`);
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, /invalid user name, password or one-time code/);
    };
    for (let i = 0; i < 3; i++) wrong(i);
    // The count is stored: after a restart two more failures are enough.
    await cluster.stop();
    await cluster.start();
    for (let i = 3; i < 5; i++) wrong(i);
    let r = login('bob', password);
    assert.equal(r.status, 4);
    assert.match(r.stderr, LOCKED);
    assert.doesNotMatch(r.stderr, /invalid user name, password/);

    const locks = ok(cluster.gatectl(['get', 'locks', '--format', 'text'])).stdout;
    assert.match(locks, /User:"bob"/);
    assert.match(locks, /user has exceeded maximum failed login attempts \(5\)/);
    assert.match(locks, /system:login-lockout/);
    const lockName = /name: ([0-9a-f-]{36})/.exec(
      ok(cluster.gatectl(['get', 'locks', '--format', 'yaml'])).stdout,
    )?.[1];
    assert.ok(lockName, 'the lock has a name');
    const lockEvents = ok(cluster.gatectl(['audit', '--type', 'lock.create', '--format', 'json'])).stdout;
    assert.match(lockEvents, new RegExp(`"lock":"${lockName}"`));

    // The lock is stored: a restarted daemon still refuses the right password.
    await cluster.stop();
    await cluster.start();
    r = login('bob', password);
    assert.equal(r.status, 4);
    assert.match(r.stderr, LOCKED);

    ok(cluster.gatectl(['rm', `lock/${lockName}`]));
    r = login('bob', password);
    assert.equal(r.status, 0, r.stderr);
    const logins = ok(cluster.gatectl(['audit', '--type', 'user.login', '--user', 'bob', '--format', 'json'])).stdout;
    assert.match(logins, /user is locked: locked until/);
    assert.match(logins, /wrong password; locked until [^"]* after 5 failed login attempts/);
  });
});
