// What `npm start` chains together, each piece as a real process: `gatehouse demo --json-status`
// (the demo cluster says where it is, who may log in and which CA it has), then the host CLI
// pre-adding that cluster pinned to that CA, then serving the app and printing its URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliSourceArgv } from '../../../test-support/cli-source.ts';
import { freePort, ROOT, stopChild } from '../../../test-support/cluster-process.ts';
import type { SessionInfo } from '../../ipc/contract.ts';
import { IpcClient } from './ipc-client.ts';

interface DemoStatus {
  clusterName: string;
  proxy: string;
  caFingerprint: string;
  node: string;
  user: string;
  password: string;
  login: string;
}

const HOST_MAIN = join(ROOT, 'src-main/host/main.ts');

function waitFor<T>(what: string, check: () => T | undefined, child: ChildProcess, log: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    const end = Date.now() + 60_000;
    const poll = () => {
      const v = check();
      if (v !== undefined) return resolve(v);
      if (child.exitCode !== null) return reject(new Error(`exited (${child.exitCode}) before ${what}:\n${log()}`));
      if (Date.now() > end) return reject(new Error(`timed out waiting for ${what}:\n${log()}`));
      setTimeout(poll, 100);
    };
    poll();
  });
}

describe('demo cluster → host CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-launch-'));
  const statusFile = join(dir, 'status.json');
  const home = join(dir, 'home');
  let demo: ChildProcess | undefined;
  let demoLog = '';
  let status: DemoStatus;

  before(async () => {
    const cfg = join(dir, 'gatehouse.yaml');
    writeFileSync(
      cfg,
      [
        'cluster_name: launch',
        'proxy:',
        `  listen_addr: 127.0.0.1:${await freePort()}`,
        'node:',
        '  name: box',
        `  listen_addr: 127.0.0.1:${await freePort()}`,
      ].join('\n'),
    );
    demo = spawn(
      process.execPath,
      cliSourceArgv('gatehouse', [
        'demo',
        '--config',
        cfg,
        '--data-dir',
        join(dir, 'data'),
        '--json-status',
        statusFile,
      ]),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    demo.stdout!.on('data', (d: Buffer) => (demoLog += d.toString()));
    demo.stderr!.on('data', (d: Buffer) => (demoLog += d.toString()));
    status = await waitFor(
      'the status file',
      () => (existsSync(statusFile) ? (JSON.parse(readFileSync(statusFile, 'utf8')) as DemoStatus) : undefined),
      demo,
      () => demoLog,
    );
  });

  after(async () => {
    await stopChild(demo);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the demo writes its status privately: where, who, and which CA', () => {
    assert.equal(statSync(statusFile).mode & 0o777, 0o600);
    assert.equal(status.clusterName, 'launch');
    assert.match(status.proxy, /^127\.0\.0\.1:\d+$/);
    assert.match(status.caFingerprint, /^SHA256:[0-9a-f]{64}$/);
    assert.equal(status.node, 'box');
    assert.equal(status.user, 'demo');
    assert.ok(status.password.length >= 12);
    // The same CA its administrator sees.
    const st = spawnSync(process.execPath, cliSourceArgv('gatectl', ['status', '--data-dir', join(dir, 'data')]), {
      encoding: 'utf8',
    });
    assert.equal(st.status, 0, st.stderr);
    assert.match(st.stdout, new RegExp(`tls_host\\s+${status.caFingerprint}`));
  });

  test('the host CLI adds the cluster pinned to that CA; a wrong pin is refused', () => {
    const wrongPin = 'SHA256:' + '0'.repeat(64);
    const bad = spawnSync(
      process.execPath,
      ['--import', 'tsx', HOST_MAIN, '--home', home, '--add-cluster', status.proxy, '--ca-pin', wrongPin, '--add-only'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(bad.status, 5, bad.stderr);
    assert.match(bad.stderr, /^ERROR: the proxy at .* does not present the CA SHA256:0{64}/m);
    assert.equal(existsSync(join(home, 'app-clusters.json')), false);

    const ok = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        HOST_MAIN,
        '--home',
        home,
        '--add-cluster',
        status.proxy,
        '--ca-pin',
        status.caFingerprint,
        '--add-only',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, '', 'nothing but the URL goes to stdout, and --add-only serves nothing');
    const pins = JSON.parse(readFileSync(join(home, 'known_proxies.json'), 'utf8'));
    assert.equal(pins.proxies[status.proxy].fingerprint, status.caFingerprint);
    assert.equal(pins.proxies[status.proxy].source, 'ca-pin');
  });

  test('the host CLI prints the app URL; the demo user logs in through it; SIGTERM stops it', async () => {
    const renderer = join(dir, 'renderer');
    mkdirSync(renderer, { recursive: true });
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>t</title>');
    const host = spawn(process.execPath, ['--import', 'tsx', HOST_MAIN, '--home', home, '--renderer-dir', renderer], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GATEHOUSE_HOST_PORT: '0' },
    });
    let out = '';
    let err = '';
    host.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    host.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const m = await waitFor(
        'the URL',
        () => /^Gatehouse app: (http:\/\/127\.0\.0\.1:(\d+))\/#token=([A-Za-z0-9_-]{43})\n$/.exec(out) ?? undefined,
        host,
        () => out + err,
      );
      const [, origin, port, token] = m;
      const c = await IpcClient.connect(`ws://127.0.0.1:${port}/ipc?token=${token}`, origin!);
      const [cluster] = await c.call<Array<{ proxy: string; current: boolean }>>('clusters.list');
      assert.equal(cluster?.proxy, status.proxy);
      assert.equal(cluster?.current, true);
      const s = await c.call<SessionInfo>('auth.login', {
        proxy: status.proxy,
        user: status.user,
        password: status.password,
      });
      assert.deepEqual(s.logins, [status.login]);
      c.close();
    } finally {
      assert.equal(await stopChild(host), 0, err);
    }
  });
});
