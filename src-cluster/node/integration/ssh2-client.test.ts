// The node SSH server driven by the (patched) ssh2 client, as `gate ssh` drives it: certificate
// login, what a channel-open denial looks like to the client, window-change on a PTY.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TempDir, makeKey, requireTool, signCert, startTestNode, type TestNode } from './fixtures.ts';
import { connectSsh2 as connect, drainChannel as drain } from './ssh2-helpers.ts';

describe('node ssh server with the ssh2 client', () => {
  let dir: TempDir;
  let key: string;
  let cert: string;
  let node: TestNode;

  before(async () => {
    requireTool('ssh-keygen');
    dir = new TempDir();
    const ca = makeKey(dir, 'user_ca');
    key = makeKey(dir, 'dave');
    cert = signCert(ca, key, { keyId: 'dave', principals: ['root'] });
    node = await startTestNode(dir, ca);
  });

  after(async () => {
    await node?.server.close();
    dir?.remove();
  });

  it('logs in with a certificate and runs a command', async () => {
    const c = await connect(node.port, 'root', key, cert);
    try {
      const r = await drain(await c.exec('id -un; exit 3'));
      assert.deepEqual(r, { stdout: 'root\n', stderr: '', code: 3 });
    } finally {
      c.client.end();
    }
  });

  it('reports an authorizer denial as reason 1 with the reason text', async () => {
    node.authorizer.decision = { allowed: false, reason: 'unauthorized device' };
    const c = await connect(node.port, 'root', key, cert);
    try {
      const err = await c.exec('id').then(
        () => assert.fail('the session should have been refused'),
        (e: Error & { reason?: number }) => e,
      );
      // What `gate ssh` turns into "ERROR: ssh: rejected: administratively prohibited (unauthorized device)".
      assert.equal(err.reason, 1);
      assert.equal(err.message, '(SSH) Channel open failure: unauthorized device');
    } finally {
      node.authorizer.decision = { allowed: true };
      c.client.end();
    }
  });

  it('asks the authorizer for every session channel, not once per connection', async () => {
    const before = node.authorizer.requests.length;
    const c = await connect(node.port, 'root', key, cert);
    try {
      for (let i = 0; i < 3; i++) assert.equal((await drain(await c.exec('true'))).code, 0);
    } finally {
      c.client.end();
    }
    assert.equal(node.authorizer.requests.length - before, 3);
  });

  it('resizes the PTY on window-change', async () => {
    const c = await connect(node.port, 'root', key, cert);
    try {
      const ch = await c.shell({ rows: 24, cols: 80, term: 'xterm' });
      const out = drain(ch);
      let seen = '';
      ch.on('data', (d: Buffer) => (seen += d.toString()));
      const waitFor = async (re: RegExp) => {
        for (let i = 0; i < 100 && !re.test(seen); i++) await new Promise((r) => setTimeout(r, 50));
        assert.match(seen, re);
      };
      ch.write('stty size; echo MARK1\n');
      await waitFor(/24 80\r\nMARK1/);
      ch.setWindow(40, 132, 0, 0);
      ch.write('stty size; echo MARK2\n');
      await waitFor(/40 132\r\nMARK2/);
      ch.write('exit 5\n');
      const r = await out;
      assert.equal(r.code, 5);
    } finally {
      c.client.end();
    }
  });

  it('refuses sftp and other subsystems', async () => {
    const c = await connect(node.port, 'root', key, cert);
    try {
      await assert.rejects(
        new Promise((res, rej) => c.client.sftp((err, s) => (err ? rej(err) : res(s)))),
        /Unable to start subsystem: sftp/,
      );
    } finally {
      c.client.end();
    }
  });
});
