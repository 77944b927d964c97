// Issue 11, finding 17 (client half): the first `gate login` to an unknown proxy used to trust its
// CA silently, so whoever answered at that address could pose as the cluster and take the
// password. Now, with the real CLI: a terminal shows the SHA-256 fingerprint and asks y/N;
// without one, login is refused unless --ca-pin matches or --insecure-trust-on-first-use is given.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pty from 'node-pty';
import { until } from '../../../test-support/until.ts';
import { ClusterProcess, type ClusterUser } from '../../../test-support/cluster-process.ts';

describe('first contact with a proxy needs the user to confirm its CA', () => {
  const cluster = new ClusterProcess();
  let pin = '';
  let user: ClusterUser;
  before(async () => {
    await cluster.start();
    pin = /tls_host\s+(SHA256:[0-9a-f]{64})/.exec(cluster.gatectl(['status']).stdout)?.[1] ?? '';
    assert.ok(pin, 'gatectl status prints the tls_host CA fingerprint');
    cluster.addRole('access');
    user = cluster.addUser('tofu', ['access']);
  });
  after(() => cluster.destroy());

  /** A fresh GATEHOUSE_HOME: a machine that has never seen this proxy. */
  const freshHome = () => mkdtempSync(join(cluster.dir, 'home-'));
  const pinned = (home: string) => existsSync(join(home, 'known_proxies.json'));
  const login = (home: string, ...extra: string[]) =>
    cluster.gate(
      ['login', '--proxy', cluster.proxyAddr, '--user', user.name, '--password-stdin', ...extra],
      `${user.password}\n`,
      { GATEHOUSE_HOME: home },
    );

  test('non-interactive login without a pin is refused, naming the fingerprint and both ways out', () => {
    const home = freshHome();
    const r = login(home);
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, /^ERROR: the proxy at .* is not known yet and its certificate authority SHA256:/m);
    assert.ok(r.stderr.includes(pin), `the refusal shows the CA fingerprint ${pin}:\n${r.stderr}`);
    assert.match(r.stderr, /--ca-pin SHA256:[0-9a-f]{64}, or pass --insecure-trust-on-first-use/);
    assert.equal(pinned(home), false, 'nothing is pinned');
    assert.doesNotMatch(cluster.gate(['status'], '', { GATEHOUSE_HOME: home }).stdout, /Logged in as/);
  });

  test('--ca-pin: a wrong pin is refused, the right one (any case, sha256: prefix) logs in', () => {
    const home = freshHome();
    const wrong = login(home, '--ca-pin', `SHA256:${'0'.repeat(64)}`);
    assert.equal(wrong.status, 5, wrong.stderr);
    assert.match(wrong.stderr, /does not present the CA SHA256:0{64}/);
    assert.equal(pinned(home), false);
    const right = login(home, '--ca-pin', pin.replace('SHA256:', 'sha256:'));
    assert.equal(right.status, 0, right.stderr);
    assert.match(right.stderr, new RegExp(`Trusting the proxy at .* with CA ${pin}`));
    assert.ok(pinned(home));
    // Once pinned, later logins need nothing.
    assert.equal(login(home).status, 0);
  });

  test('--insecure-trust-on-first-use logs in and still shows what it trusted', () => {
    const home = freshHome();
    const r = login(home, '--insecure-trust-on-first-use');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /First connection to the proxy .* Trusting its certificate authority:\n {2}SHA256:/s);
    assert.ok(r.stderr.includes(pin));
    const pins = JSON.parse(readFileSync(join(home, 'known_proxies.json'), 'utf8'));
    assert.equal(pins.proxies[cluster.proxyAddr].fingerprint, pin);
  });

  /** `gate login` on a real terminal; answers the CA question, then the password if asked. */
  async function interactiveLogin(home: string, answer: string) {
    const term = pty.spawn(
      process.execPath,
      cluster.gateArgv(['login', '--proxy', cluster.proxyAddr, '--user', user.name]),
      {
        cols: 120,
        rows: 30,
        env: { ...process.env, GATEHOUSE_HOME: home, TERM: 'xterm' } as Record<string, string>,
      },
    );
    let screen = '';
    term.onData((d) => (screen += d));
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    await until('the CA question', () =>
      screen.includes('Trust this certificate authority? [y/N] ') ? true : undefined,
    );
    term.write(`${answer}\r`);
    if (/^y/i.test(answer)) {
      await until('the password prompt', () => (/Password for /.test(screen) ? true : undefined));
      term.write(`${user.password}\r`);
    }
    return { status: await exited, screen };
  }

  test('on a terminal: the fingerprint is shown and "n" (or Enter) refuses', async () => {
    const home = freshHome();
    const r = await interactiveLogin(home, '');
    assert.ok(r.screen.includes(pin), r.screen);
    assert.equal(r.status, 5, r.screen);
    assert.match(r.screen, /you did not confirm the certificate authority/);
    assert.doesNotMatch(r.screen, /Password for/, 'no password is asked for, let alone sent');
    assert.equal(pinned(home), false);
  });

  test('on a terminal: "y" pins exactly the CA shown and logs in', async () => {
    const home = freshHome();
    const r = await interactiveLogin(home, 'y');
    assert.equal(r.status, 0, r.screen);
    assert.match(r.screen, new RegExp(`Its certificate authority is:\\r?\\n {2}${pin}`));
    const pins = JSON.parse(readFileSync(join(home, 'known_proxies.json'), 'utf8'));
    assert.equal(pins.proxies[cluster.proxyAddr].fingerprint, pin);
  });
});
