// A renewed host identity reaches a running node: new connections see the new host key at once,
// a connection made before keeps working, and the port never closes in between.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { publicKeyBlob, TempDir, makeKey, requireTool, signCert, startTestNode, type TestNode } from './fixtures.ts';
import { connectSsh2 as connect, drainChannel as drain } from './ssh2-helpers.ts';

/** The host key a new connection is offered (the handshake only; no login). */
function offeredHostKey(port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', (e) => reject(e));
    client.connect({
      host: '127.0.0.1',
      port,
      username: 'nobody',
      hostVerifier: (key: Buffer) => {
        resolve(Buffer.from(key));
        setImmediate(() => client.end());
        return false;
      },
    } as ssh2.ConnectConfig);
  });
}

describe('node host key replacement', () => {
  let dir: TempDir;
  let key: string;
  let cert: string;
  let node: TestNode;

  before(async () => {
    requireTool('ssh-keygen');
    dir = new TempDir();
    const ca = makeKey(dir, 'user_ca');
    key = makeKey(dir, 'erin');
    cert = signCert(ca, key, { keyId: 'erin', principals: ['root'] });
    node = await startTestNode(dir, ca);
  });

  after(async () => {
    await node?.server.close();
    dir?.remove();
  });

  it('offers the new key to new connections while an open one keeps working', async () => {
    const before = await offeredHostKey(node.port);
    const open = await connect(node.port, 'root', key, cert);
    try {
      const next = makeKey(dir, 'host-next');
      node.server.replaceHostKey(readFileSync(next, 'utf8'));
      const after = await offeredHostKey(node.port);
      assert.notDeepEqual(after, before, 'a new connection still sees the old host key');
      assert.deepEqual(after, publicKeyBlob(next), 'a new connection sees the replacement key');
      const r = await drain(await open.exec('echo still-here'));
      assert.equal(r.stdout, 'still-here\n', 'the connection made before the replacement still works');
      const fresh = await connect(node.port, 'root', key, cert);
      try {
        assert.equal((await drain(await fresh.exec('echo new'))).stdout, 'new\n');
      } finally {
        fresh.client.end();
      }
    } finally {
      open.client.end();
    }
  });
});
