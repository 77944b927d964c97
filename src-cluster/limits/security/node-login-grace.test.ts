// Issue 11, finding 4, the other side of the login grace timer: it now runs from accept, and must
// stop when the client authenticates, so a legitimate session outlives it (connections that never
// authenticate are in connection-limits.test.ts). Real ssh2 client with
// a certificate from a real ssh-keygen CA against the node server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { Client } from 'ssh2';
import {
  TempDir,
  makeKey,
  requireTool,
  signCert,
  startTestNode,
  type TestNode,
} from '../../node/integration/fixtures.ts';

const GRACE_MS = 1000;
let dir: TempDir;
let key: string;
let cert: string;
let node: TestNode;
const login = userInfo().username;

before(async () => {
  requireTool('ssh-keygen');
  dir = new TempDir();
  const ca = makeKey(dir, 'user_ca');
  key = makeKey(dir, 'erin');
  cert = signCert(ca, key, { keyId: 'erin', principals: [login] });
  node = await startTestNode(dir, ca, { loginGraceMs: GRACE_MS });
});

after(async () => {
  await node?.server.close();
  dir?.remove();
});

function exec(client: Client, command: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.exec(command, (err, ch) => {
      if (err) return reject(err);
      let out = '';
      ch.on('data', (d: Buffer) => (out += d.toString()));
      ch.on('close', () => resolve(out));
    }),
  );
}

test('an authenticated connection outlives the login grace time', async () => {
  const client = new Client();
  client.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', reject);
    client.connect({
      host: '127.0.0.1',
      port: node.port,
      username: login,
      privateKey: readFileSync(key),
      certificate: readFileSync(cert, 'utf8'),
      readyTimeout: 5000,
    } as never);
  });
  try {
    await new Promise((r) => setTimeout(r, GRACE_MS * 2.5));
    assert.equal((await exec(client, 'echo still-here')).trim(), 'still-here');
    assert.ok(!node.logger.lines.some((l) => l.includes('no authentication in time')));
  } finally {
    client.end();
  }
});
