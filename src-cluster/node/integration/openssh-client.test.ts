// The node SSH server driven by the stock OpenSSH client: certificate login, refusals with
// logged reasons, authorizer denials as "administratively prohibited", PTYs and shutdown.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  TempDir,
  collect,
  makeKey,
  requireTool,
  runSsh,
  signCert,
  spawnSsh,
  startTestNode,
  type TestNode,
} from './fixtures.ts';

describe('node ssh server with the OpenSSH client', () => {
  let dir: TempDir;
  let ca: string;
  let foreignCa: string;
  let key: string;
  let cert: string;
  let node: TestNode;

  before(async () => {
    requireTool('ssh');
    requireTool('ssh-keygen');
    // Must not leak into sessions: they get an environment built from scratch.
    process.env.SECRET_FROM_NODE = 'node-secret';
    dir = new TempDir();
    ca = makeKey(dir, 'user_ca');
    foreignCa = makeKey(dir, 'foreign_ca');
    key = makeKey(dir, 'alice');
    cert = signCert(ca, key, { keyId: 'alice@example.com', principals: ['root', 'nobody'] });
    node = await startTestNode(dir, ca);
  });

  after(async () => {
    delete process.env.SECRET_FROM_NODE;
    await node?.server.close();
    dir?.remove();
  });

  const ssh = (command: string[], extra: Partial<Parameters<typeof runSsh>[0]> = {}) =>
    runSsh({ port: node.port, login: 'root', key, cert, command, ...extra });

  it('runs a command as the requested login', async () => {
    const r = await ssh(['id', '-un']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'root\n');
    assert.equal(r.code, 0);
    const req = node.authorizer.requests.at(-1)!;
    assert.equal(req.login, 'root');
    assert.equal(req.cert.keyId, 'alice@example.com');
    assert.deepEqual(req.node, { name: 'test-node', labels: { env: 'test' } });
    assert.equal(req.clientAddress, '127.0.0.1');
  });

  it('propagates the exit status and keeps stdout and stderr apart', async () => {
    const r = await ssh(['echo out; echo err >&2; exit 7']);
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  it('reports a signal death as exit-signal', async () => {
    const r = await ssh(['kill -TERM $$'], { flags: ['-v'] });
    // OpenSSH exits 255 when the remote command died of a signal.
    assert.equal(r.code, 255);
    assert.match(r.stderr, /client_input_channel_req: channel 0 rtype exit-signal/);
    assertLogged(node, /session ended.*"command":"kill -TERM \$\$".*"signal":"TERM"/);
  });

  it('sets a clean environment and accepts only allowlisted client variables', async () => {
    const r = await ssh(
      ['echo "$HOME|$USER|$LOGNAME|$SHELL|$LANG|${FOO-unset}|$GATEHOUSE_USER|${SECRET_FROM_NODE-unset}"; pwd'],
      {
        flags: ['-o', 'SendEnv=LANG', '-o', 'SetEnv=FOO=bar'],
        env: { LANG: 'C.UTF-8' },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '/root|root|root|/bin/bash|C.UTF-8|unset|alice@example.com|unset\n/root\n');
  });

  it('gives a real PTY when asked (ssh -tt)', async () => {
    const r = await ssh(['tty; echo "TERM=$TERM"; stty size'], {
      flags: ['-tt'],
      env: { TERM: 'xterm-256color' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\/dev\/pts\/\d+\r\n/);
    assert.match(r.stdout, /TERM=xterm-256color\r\n/);
  });

  it('has no terminal without a PTY', async () => {
    const r = await ssh(['tty']);
    assert.equal(r.stdout, 'not a tty\n');
    assert.equal(r.code, 1);
  });

  it("runs the login's own shell: nobody gets nologin's message", async () => {
    const r = await ssh(['id'], { login: 'nobody' });
    assert.match(r.stdout + r.stderr, /This account is currently not available/);
    assert.equal(r.code, 1);
  });

  it('refuses a login the certificate does not list, and logs why', async () => {
    const r = await ssh(['true'], { login: 'daemon' });
    assert.equal(r.code, 255);
    assert.match(r.stderr, /Permission denied \(publickey\)/);
    assertLogged(
      node,
      /ssh authentication refused.*"login":"daemon".*"keyId":"alice@example.com".*login \\"daemon\\" is not among the certificate's principals/,
    );
  });

  it('refuses an expired certificate', async () => {
    const k = makeKey(dir, 'expired');
    const c = signCert(ca, k, { keyId: 'old-cert', principals: ['root'], validity: '20200101:20200102' });
    const r = await ssh(['true'], { key: k, cert: c });
    assert.equal(r.code, 255);
    assert.match(r.stderr, /Permission denied/);
    assertLogged(node, /ssh authentication refused.*"keyId":"old-cert".*certificate expired at 2020-01-02/);
  });

  it('refuses a certificate from a foreign CA', async () => {
    const k = makeKey(dir, 'foreign');
    const c = signCert(foreignCa, k, { keyId: 'foreign-cert', principals: ['root'] });
    const r = await ssh(['true'], { key: k, cert: c });
    assert.equal(r.code, 255);
    assertLogged(node, /ssh authentication refused.*"keyId":"foreign-cert".*not signed by this cluster's user CA/);
  });

  it('refuses a plain key without a certificate', async () => {
    const k = makeKey(dir, 'plain');
    const r = await ssh(['true'], { key: k, cert: undefined });
    assert.equal(r.code, 255);
    assert.match(r.stderr, /Permission denied \(publickey\)/);
    assertLogged(node, /ssh authentication refused.*plain public key \(ssh-ed25519\) refused/);
  });

  it('refuses passwords and keyboard-interactive', async () => {
    const r = await ssh(['true'], {
      cert: undefined,
      flags: ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password,keyboard-interactive'],
    });
    assert.equal(r.code, 255);
    assert.match(r.stderr, /Permission denied \(publickey\)/);
  });

  it('refuses certificates with critical options it does not know', async () => {
    const k = makeKey(dir, 'critical');
    const c = signCert(ca, k, { keyId: 'crit', principals: ['root'], options: ['critical:verify-required'] });
    const r = await ssh(['true'], { key: k, cert: c });
    assert.equal(r.code, 255);
    assertLogged(node, /"keyId":"crit".*critical option\(s\) \\"verify-required\\"/);
  });

  it('enforces force-command and source-address', async () => {
    const k = makeKey(dir, 'forced');
    const c = signCert(ca, k, {
      keyId: 'forced',
      principals: ['root'],
      options: ['force-command=echo forced:$SSH_ORIGINAL_COMMAND', 'source-address=127.0.0.0/8'],
    });
    const r = await ssh(['echo', 'asked'], { key: k, cert: c });
    assert.equal(r.stdout, 'forced:echo asked\n');
    assert.equal(r.code, 0);
    const k2 = makeKey(dir, 'elsewhere');
    const c2 = signCert(ca, k2, { keyId: 'elsewhere', principals: ['root'], options: ['source-address=10.9.8.0/24'] });
    const r2 = await ssh(['true'], { key: k2, cert: c2 });
    assert.equal(r2.code, 255);
    assertLogged(node, /"keyId":"elsewhere".*client address 127.0.0.1 is not in the certificate's source-address list/);
  });

  it("shows the authorizer's denial as administratively prohibited", async () => {
    node.authorizer.decision = { allowed: false, reason: 'unauthorized device' };
    try {
      const r = await ssh(['id']);
      assert.equal(r.code, 255);
      assert.match(r.stderr, /channel 0: open failed: administratively prohibited: unauthorized device/);
      assert.equal(r.stdout, '');
      assertLogged(node, /session refused.*"reason":"unauthorized device"/);
    } finally {
      node.authorizer.decision = { allowed: true };
    }
  });

  it('refuses port forwarding with a reason', async () => {
    const r = await ssh([], { flags: ['-W', '127.0.0.1:9'] });
    assert.equal(r.code, 255);
    assert.match(r.stderr, /administratively prohibited: port forwarding is not allowed on Gatehouse nodes/);
  });

  it('refuses an unknown OS login with a clear reason', async () => {
    const k = makeKey(dir, 'ghost');
    const c = signCert(ca, k, { keyId: 'ghost', principals: ['nosuchuser42'] });
    const r = await runSsh({ port: node.port, login: 'nosuchuser42', key: k, cert: c, command: ['true'] });
    assert.equal(r.code, 255);
    assert.match(r.stderr, /administratively prohibited: login "nosuchuser42" does not exist on node "test-node"/);
  });
});

describe('node ssh server shutdown', () => {
  it('tells an open session why it ends, then closes it and the listener', async () => {
    requireTool('ssh');
    const dir = new TempDir();
    try {
      const ca = makeKey(dir, 'ca');
      const key = makeKey(dir, 'bob');
      const cert = signCert(ca, key, { keyId: 'bob', principals: ['root'] });
      const node = await startTestNode(dir, ca);
      const child = spawnSsh({ port: node.port, login: 'root', key, cert, command: ['echo ready; sleep 60'] });
      const done = collect(child, 20_000);
      await new Promise<void>((resolve) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      });
      const started = Date.now();
      await node.server.close('node test-node is going down for maintenance');
      const r = await done;
      assert.ok(Date.now() - started < 5000, 'close() should not wait for the 60 s command');
      assert.equal(r.stdout, 'ready\n');
      assert.match(r.stderr, /node test-node is going down for maintenance/);
      assert.notEqual(r.code, 0);
      // The listener is gone. (Not probed with a new connection: other tests on this machine may
      // already have been given the freed port.)
      assert.throws(() => node.server.address(), /is not listening/);
    } finally {
      dir.remove();
    }
  });

  it('writes the message to the terminal of a PTY session', async () => {
    const dir = new TempDir();
    try {
      const ca = makeKey(dir, 'ca');
      const key = makeKey(dir, 'carol');
      const cert = signCert(ca, key, { keyId: 'carol', principals: ['root'] });
      const node = await startTestNode(dir, ca);
      const child = spawnSsh({
        port: node.port,
        login: 'root',
        key,
        cert,
        command: ['echo ready; sleep 60'],
        flags: ['-tt'],
      });
      const done = collect(child, 20_000);
      await new Promise<void>((resolve) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      });
      await node.server.close();
      const r = await done;
      assert.match(r.stdout, /ready\r\n\r\nthe node is shutting down\r\n/);
    } finally {
      dir.remove();
    }
  });
});

function assertLogged(node: TestNode, re: RegExp): void {
  assert.ok(
    node.logger.lines.some((l) => re.test(l)),
    `expected a log line matching ${re}; got:\n${node.logger.lines.join('\n')}`,
  );
}
