// Issue 11, finding 16: one-time tokens must not sit on the command line, where every local user
// reads them with `ps` (/proc/<pid>/cmdline is world-readable). The real `gate` takes them from
// stdin, $GATEHOUSE_TOKEN or a no-echo prompt; --token still works but warns.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pty from 'node-pty';
import { until } from '../../../test-support/until.ts';
import { ClusterProcess } from '../../../test-support/cluster-process.ts';

const WARNING = /WARNING: --token puts the token in the process list/;

/** What any local user sees of a process in `ps`: its command line. */
function cmdlineOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

/**
 * Starts `gate` with stdin held open, reads its command line the way another user's `ps` would,
 * then feeds stdin and waits for the exit.
 */
async function runWatched(cluster: ClusterProcess, args: string[], input: string) {
  const child = spawn(process.execPath, cluster.gateArgv(args), {
    env: { ...process.env, GATEHOUSE_HOME: cluster.home },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  const seenByPs = cmdlineOf(child.pid!);
  child.stdin.end(input);
  return { status: await exited, stdout, stderr, seenByPs };
}

describe('one-time tokens stay off the command line', () => {
  const cluster = new ClusterProcess();
  let pin = '';
  before(async () => {
    await cluster.start();
    pin = /tls_host\s+(SHA256:[0-9a-f]{64})/.exec(cluster.gatectl(['status']).stdout)?.[1] ?? '';
    assert.ok(pin, 'gatectl status prints the tls_host CA fingerprint');
  });
  after(() => cluster.destroy());

  const newUser = (name: string): string => {
    const add = cluster.gatectl(['users', 'add', name, '--roles=access', '--logins=x']);
    assert.equal(add.status, 0, add.stderr);
    assert.doesNotMatch(add.stdout, /--token/, 'gatectl no longer suggests --token');
    const token = /^\s+([0-9a-f]{20,})$/m.exec(add.stdout)?.[1];
    assert.ok(token, add.stdout);
    return token;
  };
  const setPassword = ['set-password', '--proxy', () => cluster.proxyAddr, '--ca-pin', () => pin] as const;
  const argv = (...extra: string[]) => [...setPassword.map((a) => (typeof a === 'function' ? a() : a)), ...extra];
  const canLogIn = (user: string, password: string) => {
    const r = cluster.gate(
      ['login', '--proxy', cluster.proxyAddr, '--user', user, '--password-stdin'],
      password + '\n',
    );
    assert.equal(r.status, 0, r.stderr);
  };

  test('--token still works, but the token is visible in ps and gate says so', async () => {
    const token = newUser('tok-flag');
    const r = await runWatched(cluster, argv('--token', token, '--password-stdin'), 'flag password 123\n');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.seenByPs.includes(token), 'the reproduction: another user reads the token in ps');
    assert.match(r.stderr, WARNING);
    canLogIn('tok-flag', 'flag password 123');
  });

  test('--token-stdin: token on the first line, password on the second; ps shows no token', async () => {
    const token = newUser('tok-stdin');
    const r = await runWatched(cluster, argv('--token-stdin', '--password-stdin'), `${token}\nstdin password 123\n`);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.seenByPs.includes(token), r.seenByPs);
    assert.doesNotMatch(r.stderr, WARNING);
    assert.match(r.stdout, /Password set for tok-stdin\./);
    canLogIn('tok-stdin', 'stdin password 123');
  });

  test('GATEHOUSE_TOKEN from the environment, and piped stdin without a flag', async () => {
    const envToken = newUser('tok-env');
    const r = cluster.gate(argv('--password-stdin'), 'env password 1234\n', { GATEHOUSE_TOKEN: envToken });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, WARNING);
    canLogIn('tok-env', 'env password 1234');
    const piped = newUser('tok-pipe');
    const p = await runWatched(cluster, argv('--password-stdin'), `${piped}\npipe password 1234\n`);
    assert.equal(p.status, 0, p.stderr);
    assert.ok(!p.seenByPs.includes(piped));
    canLogIn('tok-pipe', 'pipe password 1234');
  });

  test('on a terminal gate asks for the token without echoing it', async () => {
    const token = newUser('tok-tty');
    const term = pty.spawn(process.execPath, cluster.gateArgv(argv()), {
      cols: 100,
      rows: 30,
      env: { ...process.env, GATEHOUSE_HOME: cluster.home, TERM: 'xterm' } as Record<string, string>,
    });
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    assert.ok(!cmdlineOf(term.pid).includes(token));
    let from = 0;
    for (const [question, answer] of [
      ['One-time token: ', token],
      ['New password: ', 'tty password 1234'],
      ['Repeat the new password: ', 'tty password 1234'],
    ] as const) {
      from = await until(question, () => {
        const at = screen.indexOf(question, from);
        return at >= 0 ? at + question.length : undefined;
      });
      term.write(answer + '\r');
    }
    assert.equal(await exited, 0, screen);
    assert.ok(!screen.includes(token), `the token was echoed:\n${screen}`);
    assert.match(screen, /Password set for tok-tty\./);
    canLogIn('tok-tty', 'tty password 1234');
  });

  test('bad token input is a clear error before anything is sent', () => {
    const both = cluster.gate(argv('--token', 'abc', '--token-stdin'), 'abc\n');
    assert.equal(both.status, 2, both.stderr);
    assert.match(both.stderr, /give the token once, with --token-stdin or --token/);
    const none = cluster.gate(argv('--token-stdin', '--password-stdin'), '');
    assert.equal(none.status, 2, none.stderr);
    assert.match(none.stderr, /no token on standard input/);
    // gate device enroll reads its token the same way (logged in here; no TPM at that TCTI).
    const tcti = { GATEHOUSE_TPM_TCTI: 'device:/nonexistent' };
    const enroll = cluster.gate(['device', 'enroll', '--token', 'abc'], '', tcti);
    assert.match(enroll.stderr, WARNING);
    const enrollBoth = cluster.gate(['device', 'enroll', '--token', 'abc', '--token-stdin'], 'abc\n', tcti);
    assert.equal(enrollBoth.status, 2, enrollBoth.stderr);
    const enrollNone = cluster.gate(['device', 'enroll'], '', tcti);
    assert.equal(enrollNone.status, 2, enrollNone.stderr);
    assert.match(enrollNone.stderr, /no token on standard input/);
  });
});
