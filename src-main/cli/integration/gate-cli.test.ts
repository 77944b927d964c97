// `gate` against a real cluster for what a person at a terminal does: set a password with a
// token and log in with a one-time code, use an interactive shell on a real pty (resize, exit
// status), notice a proxy whose CA changed, let certificates expire, and log out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import * as OTPAuth from 'otpauth';
import pty from 'node-pty';
import { ClusterProcess } from '../../../test-support/cluster-process.ts';

const LOGIN = userInfo().username;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await wait(25);
  }
}

describe('gate with a one-time-code cluster', () => {
  const cluster = new ClusterProcess({ secondFactor: 'otp' });
  let otpUri = '';
  const password = 'a long enough password 1';
  before(() => cluster.start());
  after(() => cluster.destroy());

  test('set-password with the token prints the OTP URI; the pin is stored once it succeeded', () => {
    const add = cluster.gatectl(['users', 'add', 'carol', '--roles=access', `--logins=${LOGIN}`]);
    assert.equal(add.status, 0, add.stderr);
    const token = /^\s+(\S{20,})$/m.exec(add.stdout)?.[1];
    assert.ok(token, add.stdout);
    const setPassword = ['set-password', '--proxy', cluster.proxyAddr, '--insecure-trust-on-first-use'];
    const bad = cluster.gate([...setPassword, '--token-stdin', '--password-stdin'], `not-a-token\n${password}\n`);
    assert.notEqual(bad.status, 0);
    assert.equal(existsSync(join(cluster.home, 'known_proxies.json')), false, 'a failed attempt pins nothing');
    const r = cluster.gate([...setPassword, '--password-stdin'], password + '\n', { GATEHOUSE_TOKEN: token! });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /First connection to the proxy .* Trusting its certificate authority:\n {2}SHA256:[0-9a-f]{64}\n/s,
    );
    otpUri = /otpauth:\/\/\S+/.exec(r.stdout)?.[0] ?? '';
    assert.match(otpUri, /^otpauth:\/\/totp\/.*carol/);
    const pins = JSON.parse(readFileSync(join(cluster.home, 'known_proxies.json'), 'utf8'));
    assert.ok(pins.proxies[cluster.proxyAddr], 'pinned after success');
  });

  test('login needs the one-time code; with it the profile is stored and status shows it', () => {
    const missing = cluster.gate(
      ['login', '--proxy', cluster.proxyAddr, '--user', 'carol', '--password-stdin'],
      password + '\n',
    );
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /requires a one-time code; pass it with --otp/);
    const code = OTPAuth.URI.parse(otpUri).generate();
    const r = cluster.gate(
      ['login', '--proxy', cluster.proxyAddr, '--user', 'carol', '--password-stdin', '--otp', code],
      password + '\n',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /First connection/, 'the proxy is already pinned');
    const s = cluster.gate(['status']);
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stdout, /^> Proxy: +127\.0\.0\.1:\d+$/m);
    assert.match(s.stdout, /^ {2}Logged in as: carol$/m);
    assert.match(s.stdout, /^ {2}Cluster: +it$/m);
    assert.match(s.stdout, new RegExp(`^  Logins: +${LOGIN}$`, 'm'));
    assert.match(s.stdout, /^ {2}Valid until: .* UTC \[valid for \d+h \d+m\]$/m);
  });

  test('an interactive shell runs on a pty that follows window size changes, and its exit status is ours', async () => {
    const term = pty.spawn(process.execPath, cluster.gateArgv(['ssh', cluster.nodeName]), {
      cols: 80,
      rows: 24,
      env: { ...process.env, GATEHOUSE_HOME: cluster.home, TERM: 'xterm' } as Record<string, string>,
    });
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    term.write('stty size; echo "tty=$(tty)"\r');
    await until('the first stty output', () => /24 80/.test(screen) && /tty=\/dev\/pts\//.test(screen));
    term.resize(132, 43);
    await wait(200);
    term.write('stty size\r');
    await until('the resized stty output', () => /43 132/.test(screen));
    term.write('exit 6\r');
    assert.equal(await exited, 6, screen);
  });

  test('logout removes the key; later commands say to log in', () => {
    const profileDir = join(cluster.home, 'profiles', cluster.proxyAddr.replace(':', '_'), 'carol');
    assert.ok(existsSync(join(profileDir, 'key')));
    const r = cluster.gate(['logout']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(profileDir), false);
    const ls = cluster.gate(['ls']);
    assert.equal(ls.status, 4);
    assert.match(ls.stderr, /^ERROR: not logged in/);
  });
});

describe('gate when the proxy or the certificates change', () => {
  const cluster = new ClusterProcess();
  const password = 'another good password 2';
  before(async () => {
    await cluster.start();
    const add = cluster.gatectl(
      ['users', 'add', 'dave', '--roles=access', `--logins=${LOGIN}`, '--password-stdin'],
      password + '\n',
    );
    assert.equal(add.status, 0, add.stderr);
  });
  after(() => cluster.destroy());

  test('certificates past their time are refused locally, and status says EXPIRED', async () => {
    const r = cluster.gate(
      [
        'login',
        '--proxy',
        cluster.proxyAddr,
        '--ca-pin',
        cluster.caPin,
        '--user',
        'dave',
        '--password-stdin',
        '--ttl',
        '2s',
      ],
      password + '\n',
    );
    assert.equal(r.status, 0, r.stderr);
    await wait(2500);
    const ls = cluster.gate(['ls']);
    assert.equal(ls.status, 4);
    assert.match(ls.stderr, /^ERROR: your login to .* as dave expired at .*; run "gate login" again/);
    const s = cluster.gate(['status']);
    assert.match(s.stdout, /\[EXPIRED\]/);
  });

  test('a proxy that comes back with another CA is refused with the fingerprints and the fix', async () => {
    const r = cluster.gate(
      ['login', '--proxy', cluster.proxyAddr, '--user', 'dave', '--password-stdin'],
      password + '\n',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(cluster.gate(['ls']).status, 0);
    await cluster.restartWithFreshData(); // a new cluster (new CAs) on the same address
    const ls = cluster.gate(['ls']);
    assert.equal(ls.status, 5, ls.stderr);
    assert.match(
      ls.stderr,
      /^ERROR: the proxy at 127\.0\.0\.1:\d+ presents CA SHA256:[0-9a-f]{64}, but CA SHA256:[0-9a-f]{64} is pinned for it in .*known_proxies\.json/,
    );
    const ssh = cluster.gate(['ssh', cluster.nodeName, 'true']);
    assert.equal(ssh.status, 5);
    assert.match(ssh.stderr, /presents CA .* is pinned/);
    const newPin = /--ca-pin (SHA256:[0-9a-f]{64})/.exec(ls.stderr)?.[1];
    assert.ok(newPin, ls.stderr);
    const add = cluster.gatectl(
      ['users', 'add', 'dave', '--roles=access', `--logins=${LOGIN}`, '--password-stdin'],
      password + '\n',
    );
    assert.equal(add.status, 0, add.stderr);
    const again = cluster.gate(
      ['login', '--proxy', cluster.proxyAddr, '--user', 'dave', '--password-stdin', '--ca-pin', newPin!],
      password + '\n',
    );
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /was pinned to CA SHA256:[0-9a-f]{64}; trusting SHA256:[0-9a-f]{64} instead/);
    assert.equal(cluster.gate(['ls']).status, 0);
  });
});
