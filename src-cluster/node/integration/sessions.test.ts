// Session mechanics with the stock OpenSSH client: dropping to another OS user (with its
// groups), large transfers in both directions, cleanup when the client vanishes, host certs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

const TEST_USER = `ghnode${process.pid}`;

describe('node sessions', () => {
  let dir: TempDir;
  let ca: string;
  let key: string;
  let cert: string;
  let node: TestNode;
  let userCreated = false;

  before(async () => {
    requireTool('ssh');
    requireTool('useradd');
    assert.equal(process.getuid?.(), 0, 'these tests switch OS users and must run as root');
    dir = new TempDir();
    // A throwaway account with a real shell, a home and a supplementary group.
    const home = dir.file('home');
    const r = spawnSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', '-G', 'users', TEST_USER], { encoding: 'utf8' });
    assert.equal(r.status, 0, `useradd failed: ${r.stderr}`);
    userCreated = true;
    mkdirSync(home);
    const uid = Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', TEST_USER], { encoding: 'utf8' }));
    chownSync(home, uid, gid);
    ca = makeKey(dir, 'user_ca');
    key = makeKey(dir, 'erin');
    cert = signCert(ca, key, { keyId: 'erin', principals: ['root', TEST_USER] });
    node = await startTestNode(dir, ca);
  });

  after(async () => {
    await node?.server.close();
    if (userCreated) spawnSync('userdel', [TEST_USER]);
    dir?.remove();
  });

  it('runs as the requested user with its groups, home and shell', async () => {
    const r = await runSsh({
      port: node.port,
      login: TEST_USER,
      key,
      cert,
      command: ['id -un; id -Gn; pwd; echo "$HOME $SHELL"'],
    });
    assert.equal(r.code, 0, r.stderr);
    const [name, groups, pwd, homeShell] = r.stdout.trim().split('\n');
    assert.equal(name, TEST_USER);
    assert.ok(groups!.split(' ').includes('users'), `supplementary group "users" missing: ${groups}`);
    assert.equal(pwd, dir.file('home'));
    assert.equal(homeShell, `${dir.file('home')} /bin/sh`);
  });

  it('gives the switched user a PTY it owns', async () => {
    const r = await runSsh({
      port: node.port,
      login: TEST_USER,
      key,
      cert,
      command: ['stat -c %U $(tty)'],
      flags: ['-tt'],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), TEST_USER);
  });

  it('moves large output intact and reports the status after it', async () => {
    const r = await runSsh({
      port: node.port,
      login: 'root',
      key,
      cert,
      command: ['seq 1 2000000; exit 4'],
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 4);
    const lines = r.stdout.split('\n');
    assert.equal(lines.length, 2_000_001);
    assert.equal(lines[1_999_999], '2000000');
  });

  it('moves large input intact', async () => {
    const input = randomBytes(8 * 1024 * 1024);
    const r = await runSsh({
      port: node.port,
      login: 'root',
      key,
      cert,
      command: ['sha256sum'],
      input,
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split(' ')[0], createHash('sha256').update(input).digest('hex'));
  });

  for (const pty of [false, true]) {
    it(`ends the program when the client goes away (${pty ? 'pty' : 'pipes'})`, async () => {
      const child = spawnSsh({
        port: node.port,
        login: 'root',
        key,
        cert,
        command: ['sleep 60 & echo "bg=$!"; wait'],
        flags: pty ? ['-tt'] : [],
      });
      const done = collect(child, 20_000);
      const bg = await new Promise<number>((resolve) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /bg=(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
      });
      assert.ok(alive(bg));
      child.kill('SIGKILL');
      await done;
      for (let i = 0; i < 60 && alive(bg); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(!alive(bg), `the background "sleep" (pid ${bg}) outlived its session`);
      for (let i = 0; i < 40 && node.server.activeSessions() > 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(node.server.activeSessions(), 0);
    });
  }
});

describe('node running as an unprivileged user', () => {
  it('serves its own login and refuses others with a clear reason', async () => {
    requireTool('setpriv');
    const dir = new TempDir();
    const user = `ghnodeu${process.pid}`;
    const made = spawnSync('useradd', ['-M', '-d', '/nonexistent', '-s', '/bin/sh', user], { encoding: 'utf8' });
    assert.equal(made.status, 0, `useradd failed: ${made.stderr}`);
    let server: ReturnType<typeof spawn> | undefined;
    try {
      chmodSync(dir.path, 0o755);
      const ca = makeKey(dir, 'user_ca');
      const hostKey = makeKey(dir, 'host');
      chmodSync(hostKey, 0o644);
      const key = makeKey(dir, 'gina');
      const cert = signCert(ca, key, { keyId: 'gina', principals: [user, 'root'] });
      const script = new URL('./node-process.ts', import.meta.url).pathname;
      server = spawn(
        'setpriv',
        [
          '--reuid',
          user,
          '--regid',
          user,
          '--init-groups',
          '--',
          process.execPath,
          '--import',
          'tsx',
          script,
          hostKey,
          `${ca}.pub`,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          cwd: new URL('../../..', import.meta.url).pathname,
          env: { PATH: process.env.PATH ?? '', HOME: '/tmp' },
        },
      );
      let errText = '';
      server.stderr!.on('data', (d: Buffer) => (errText += d.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        server!.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /\{"port":(\d+)\}/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        server!.once('exit', (code) => reject(new Error(`node process exited ${code}: ${errText}`)));
      });
      const own = await runSsh({ port, login: user, key, cert, command: ['id -un'] });
      assert.equal(own.stdout, `${user}\n`, own.stderr);
      const other = await runSsh({ port, login: 'root', key, cert, command: ['id -un'] });
      assert.equal(other.code, 255);
      assert.match(
        other.stderr,
        new RegExp(
          `administratively prohibited: node "unprivileged-node" runs as user "${user}" and cannot start sessions as "root"`,
        ),
      );
    } finally {
      if (server && server.exitCode === null) {
        const exited = new Promise((r) => server!.once('exit', r));
        server.kill('SIGTERM');
        await exited;
      }
      spawnSync('userdel', [user]);
      dir.remove();
    }
  });
});

describe('node host certificate', () => {
  it('is presented to clients that trust the host CA, and others fail verification', async () => {
    requireTool('ssh');
    const dir = new TempDir();
    try {
      const userCa = makeKey(dir, 'user_ca');
      const hostCa = makeKey(dir, 'host_ca');
      const otherHostCa = makeKey(dir, 'other_host_ca');
      const key = makeKey(dir, 'frank');
      const cert = signCert(userCa, key, { keyId: 'frank', principals: ['root'] });
      const hostKey = makeKey(dir, 'host');
      const hostCert = signCert(hostCa, hostKey, { keyId: 'node', principals: ['127.0.0.1'], host: true });
      const certBlob = Buffer.from(readFileSync(hostCert, 'utf8').split(' ')[1]!, 'base64');
      const node = await startTestNode(dir, userCa, {
        hostKey: readFileSync(hostKey, 'utf8'),
        hostCertificate: certBlob,
      });
      try {
        const knownHosts = (ca: string) => {
          const f = dir.file(`known_hosts_${ca.split('/').pop()}`);
          writeFileSync(f, `@cert-authority * ${readFileSync(`${ca}.pub`, 'utf8')}`);
          return ['-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${f}`];
        };
        const ok = await runSsh({
          port: node.port,
          login: 'root',
          key,
          cert,
          command: ['echo', 'hi'],
          flags: knownHosts(hostCa),
        });
        assert.equal(ok.stdout, 'hi\n', ok.stderr);
        assert.equal(ok.code, 0);
        const bad = await runSsh({
          port: node.port,
          login: 'root',
          key,
          cert,
          command: ['true'],
          flags: knownHosts(otherHostCa),
        });
        assert.equal(bad.code, 255);
        assert.match(bad.stderr, /Host key verification failed/);
      } finally {
        await node.server.close();
      }
    } finally {
      dir.remove();
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
