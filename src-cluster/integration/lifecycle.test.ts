// Failure and shutdown paths of a running cluster: a node that is registered but unreachable,
// and SIGTERM with a session open.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { TestCluster, freePort } from './harness.ts';
import { SqliteBackend } from '../storage/sqlite.ts';
import { ResourceStore } from '../storage/resources.ts';

const LOGIN = userInfo().username;
const ROOT = new URL('../../', import.meta.url).pathname;

describe('cluster lifecycle', () => {
  const cluster = new TestCluster({ nodeName: 'life' });
  before(async () => {
    await cluster.start();
    const r = cluster.addUserAndLogin('lena', 'lena-password-1', 'access', LOGIN);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => cluster.destroy());

  test('a registered node that does not answer is a clear error, not a hang', async () => {
    // A second process writing the shared SQLite file, as a node on another host would via auth.
    const backend = await SqliteBackend.open({ path: join(cluster.dataDir, 'gatehouse.db') });
    const closedPort = await freePort();
    try {
      const nodes = new ResourceStore(backend, { kind: 'node' });
      await nodes.upsert({
        kind: 'node',
        version: 'v1',
        metadata: { name: 'gone', labels: {}, expires: new Date(Date.now() + 60_000).toISOString() },
        spec: { address: `127.0.0.1:${closedPort}`, hostname: 'gone', labels: {} },
      });
    } finally {
      await backend.close();
    }
    assert.match(cluster.gate(['ls']).stdout, /^gone\s/m);
    const started = Date.now();
    const r = cluster.gate(['ssh', `${LOGIN}@gone`, 'true']);
    assert.equal(r.status, 5, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`ERROR: node "gone" at 127\\.0\\.0\\.1:${closedPort} is unreachable: ECONNREFUSED`),
    );
    assert.ok(Date.now() - started < 10_000);
  });

  test('SIGTERM tells open sessions, removes the node, and exits 0', async () => {
    const session = spawn(
      process.execPath,
      [join(ROOT, 'bin/gate.mjs'), 'ssh', `${LOGIN}@life`, 'echo started; sleep 30'],
      {
        env: { ...process.env, GATEHOUSE_HOME: cluster.home },
      },
    );
    let out = '';
    session.stdout.on('data', (d: Buffer) => (out += d.toString()));
    session.stderr.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 100 && !out.includes('started'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /started/);
    const sessionExit = new Promise<number | null>((resolve) => session.once('exit', (code) => resolve(code)));
    const code = await cluster.stop();
    assert.equal(code, 0, cluster.logs);
    const sessionCode = await sessionExit;
    assert.notEqual(sessionCode, 0);
    assert.match(out, /shutting down/);
    assert.match(cluster.logs, /shutting down signal=SIGTERM/);
    assert.match(cluster.logs, /INFO {2}\[gatehouse\] stopped/);
    // The registry forgot the node: a fresh look at storage finds no live node record.
    const backend = await SqliteBackend.open({ path: join(cluster.dataDir, 'gatehouse.db') });
    try {
      const names = (await new ResourceStore(backend, { kind: 'node' }).list()).map((n) => n.metadata.name);
      assert.ok(!names.includes('life'), `node still listed: ${names.join(', ')}`);
    } finally {
      await backend.close();
    }
  });
});
