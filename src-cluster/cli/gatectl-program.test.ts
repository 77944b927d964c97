// `gatectl` parsing without a cluster: what commander refuses before any call, and that a command
// line it accepts reaches the command (which then looks for the admin identity and says so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGatectl } from './gatectl-program.ts';

async function gatectl(argv: string[]) {
  let out = '';
  let err = '';
  const code = await runGatectl(argv, { writeOut: (t) => (out += t), writeErr: (t) => (err += t) });
  return { code, out, err };
}

test('the overview lists every command family; each command has its own help', async () => {
  const r = await gatectl(['--help']);
  assert.equal(r.code, 0);
  for (const family of ['users', 'devices', 'lock', 'audit', 'create', 'get', 'edit', 'rm', 'nodes', 'status', 'auth'])
    assert.match(r.out, new RegExp(`\\n  ${family} `), family);
  const add = await gatectl(['devices', 'add', '--help']);
  assert.equal(add.code, 0);
  for (const flag of ['--asset-tag', '--os', '--ek-key-hash', '--enroll', '--data-dir', '--identity'])
    assert.ok(add.out.includes(flag), flag);
});

test('usage errors exit 2 naming the command, before anything reaches the cluster', async () => {
  const cases: [string[], RegExp][] = [
    [['devices', 'add', '--bogus'], /^ERROR: gatectl devices add: unknown option '--bogus'/],
    [['users', 'add', 'bob'], /^ERROR: gatectl users add: required option '--roles <a,b>' not specified/],
    [['users', 'add', '--roles=access'], /^ERROR: gatectl users add: missing required argument 'NAME'/],
    [['users', 'ls', 'extra'], /^ERROR: gatectl users ls: too many arguments/],
    [['get'], /^ERROR: gatectl get: missing required argument 'KIND\[\/NAME\]'/],
    [['rm', 'role'], /^ERROR: gatectl rm: name the resource as KIND\/NAME \(e\.g\. gatectl rm role\/dev\)/],
    [['create'], /^ERROR: gatectl create: required option '-f, --file <FILE>' not specified/],
    [['frobnicate'], /^ERROR: gatectl: unknown command 'frobnicate'/],
    [['lock'], /give exactly one target/],
    [['lock', '--user=a', '--ttl=1h', '--expires=2030-01-01T00:00:00Z'], /give --ttl or --expires, not both/],
    [['audit', '--limit', 'x'], /--limit must be a positive whole number, got "x"/],
    [['devices', 'enroll'], /devices enroll needs exactly one of --asset-tag T or --device-id ID/],
    [['auth', 'export', '--type', 'bogus'], /unknown CA type "bogus"; use one of user, host, tls-user, tls-host/],
  ];
  for (const [argv, expected] of cases) {
    const r = await gatectl([...argv, '--data-dir', '/nonexistent-gatectl-test']);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.err}`);
    assert.match(r.err, expected, argv.join(' '));
    assert.doesNotMatch(r.err, /ERROR: admin identity/, argv.join(' '));
  }
  // No command, or a family without its subcommand: the help, as a usage error.
  for (const argv of [[], ['devices'], ['nodes']]) {
    const r = await gatectl(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, /^Usage: gatectl /);
  }
});

test('the admin target options work before and after the command; the command then looks there', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatectl-program-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const argvs = [
    ['status', '--data-dir', dir],
    ['--data-dir', dir, 'status'],
    ['devices', 'add', '--asset-tag', 'SN-1', '--os', 'linux', '--enroll', '--data-dir', dir],
    ['lock', '--user=alice', '--message=gone', `--data-dir=${dir}`],
    ['audit', '--since', '1h', '--format', 'json', '--data-dir', dir],
    ['get', 'role/access', '--format', 'json', '--data-dir', dir],
  ];
  for (const argv of argvs) {
    const r = await gatectl(argv);
    assert.equal(r.code, 4, `${argv.join(' ')}: ${r.err}`);
    assert.ok(r.err.startsWith(`ERROR: admin identity ${join(dir, 'admin-identity.json')}: not found.`), r.err);
  }
  const r = await gatectl(['users', 'ls', '--identity', join(dir, 'id.json'), '--data-dir', '/elsewhere']);
  assert.ok(r.err.startsWith(`ERROR: admin identity ${join(dir, 'id.json')}: not found.`), r.err);
});
