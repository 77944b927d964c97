// `gate apps` / `gate app` / `gate proxy app` without a cluster: argument errors, what needs a
// login, help, and the printed text (the ls table, config's honest note, the Proxying line,
// refusal lines with their remedy).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { Profile } from '../../core/profiles.ts';
import type { CommandContext } from '../context.ts';
import { runGate } from '../main.ts';
import { proxyingLine, refusalLines } from './app-gateway.ts';
import { appConfigText, appsTable, requireApp } from './apps.ts';
import type { ClusterClient } from '../../core/cluster-client.ts';

async function gate(args: string[], home: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const stdin = new PassThrough();
  stdin.end();
  const code = await runGate(args, { GATEHOUSE_HOME: home }, { stdin, stdout, stderr });
  return { code, stdout: out, stderr: err };
}

describe('gate apps / app / proxy app without a cluster', () => {
  const home = mkdtempSync(join(tmpdir(), 'gate-app-cli-'));
  test.after(() => rmSync(home, { recursive: true, force: true }));

  test('usage errors name the command; a bad port or format is refused (exit 2)', async () => {
    let r = await gate(['app', 'login'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ERROR: gate app login: missing required argument 'NAME'/);
    r = await gate(['apps', 'ls', '--format', 'yaml'], home);
    assert.equal(r.code, 2);
    r = await gate(['proxy', 'app', 'grafana', '-p', '70000'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port must be 0-65535/);
    r = await gate(['proxy', 'app'], home);
    assert.equal(r.code, 2);
  });

  test('commands that need a login say how to get one (exit of NOT_LOGGED_IN)', async () => {
    for (const args of [
      ['apps', 'ls'],
      ['app', 'login', 'grafana'],
      ['app', 'config', 'grafana'],
      ['app', 'logout'],
      ['proxy', 'app', 'grafana', '-p', '0'],
    ]) {
      const r = await gate(args, home);
      assert.equal(r.code, 4, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /not logged in; run "gate login/);
    }
  });

  test('help lists the app commands', async () => {
    const apps = await gate(['apps', '--help'], home);
    assert.match(apps.stdout, /\n {2}ls\b/);
    const app = await gate(['app', '--help'], home);
    for (const c of ['login', 'config', 'logout']) assert.match(app.stdout, new RegExp(`\\n  ${c}\\b`));
    const p = await gate(['proxy', '--help'], home);
    assert.match(p.stdout, /\n {2}app <NAME> +a local gateway for a web or TCP app/);
    const pa = await gate(['proxy', 'app', '--help'], home);
    assert.match(pa.stdout, /-p, --port <N>/);
  });
});

test('apps ls: name, kind, uri, public address and labels; stored logins marked', () => {
  const table = appsTable(
    [
      {
        name: 'grafana',
        kind: 'http',
        description: '',
        uri: 'http://127.0.0.1:3000',
        publicAddr: 'grafana.example.com',
        labels: { env: 'prod', team: 'ops' },
      },
      { name: 'redis', kind: 'tcp', description: '', uri: 'tcp://127.0.0.1:6379', publicAddr: '', labels: {} },
    ],
    new Set(['redis']),
  );
  const [header, , first, second] = table.split('\n');
  assert.match(header!, /^ {2}Name\s+Kind\s+URI\s+Public Address\s+Labels$/);
  assert.match(first!, /^ {2}grafana\s+http\s+http:\/\/127\.0\.0\.1:3000\s+grafana\.example\.com\s+env=prod,team=ops$/);
  assert.match(second!, /^> redis\s+tcp\s+tcp:\/\/127\.0\.0\.1:6379/);
});

test('app config: the three files and the URL, and that curl goes through gate proxy app', () => {
  const text = appConfigText(
    {
      name: 'grafana',
      kind: 'http',
      uri: 'http://x',
      issuedAt: '',
      expiresAt: '2030-01-01T00:00:00.000Z',
      certificate: {} as never,
    },
    { cert: '/h/app/grafana.crt', key: '/h/key', cacert: '/h/app/proxy-ca.pem' },
    'proxy.example:3080',
  );
  assert.match(text, /^URL: +https:\/\/proxy\.example:3080\/$/m);
  assert.match(text, /^CA: +\/h\/app\/proxy-ca\.pem +\(--cacert\)$/m);
  assert.match(text, /^Cert: +\/h\/app\/grafana\.crt +\(--cert\)$/m);
  assert.match(text, /^Key: +\/h\/key +\(--key\)$/m);
  assert.match(text, /curl cannot send/);
  assert.match(text, /^ {2}gate proxy app grafana -p 8888\n {2}curl http:\/\/127\.0\.0\.1:8888\/$/m);
});

test('proxy app prints a URL for HTTP apps and an address for TCP apps; refusals with their remedy', () => {
  const info = { localAddress: '127.0.0.1', localPort: 8888 };
  assert.equal(
    proxyingLine({ name: 'grafana', kind: 'http' }, info),
    'Proxying http://127.0.0.1:8888 → grafana (Ctrl-C to stop)',
  );
  assert.equal(proxyingLine({ name: 'redis', kind: 'tcp' }, info), 'Proxying 127.0.0.1:8888 → redis (Ctrl-C to stop)');
  const ctx = {} as CommandContext;
  const profile = {} as Profile;
  assert.deepEqual(
    refusalLines(
      ctx,
      profile,
      new GatehouseError(ErrorCode.ACCESS_DENIED, 'access to app denied: no role allows app "redis"'),
    ),
    ['gate proxy app: access to app denied: no role allows app "redis" [ACCESS_DENIED]'],
  );
  const expired = refusalLines(ctx, profile, new GatehouseError(ErrorCode.CERT_EXPIRED, 'your login expired'));
  assert.match(expired[1]!, /Log in again with "gate login"/);
});

test('an app missing from ListApps (unknown, or hidden by the roles) is APP_NOT_FOUND, exit 3', async () => {
  const cluster = { listApps: async () => [] } as unknown as ClusterClient;
  await assert.rejects(
    requireApp(cluster, {} as Profile, 'prod-web'),
    (e: unknown) =>
      e instanceof GatehouseError &&
      e.code === ErrorCode.APP_NOT_FOUND &&
      /^no app "prod-web" that your roles allow; "gate apps ls"/.test(e.message),
  );
});
