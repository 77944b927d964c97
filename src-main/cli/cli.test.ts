// The gate CLI without a cluster: argument handling, tables, and how errors reach the user.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseTtl } from './commands/login.ts';
import { labelsText } from './commands/ls.ts';
import { splitSshArgs } from './commands/ssh.ts';
import { formatTable, type CliIo } from './io.ts';
import { runGate } from './main.ts';

function fakeIo(): { io: CliIo; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (d) => (o += d));
  stderr.on('data', (d) => (e += d));
  const stdin = new PassThrough();
  stdin.end();
  return { io: { stdin, stdout, stderr }, out: () => o, err: () => e };
}

async function gate(args: string[], home: string) {
  const f = fakeIo();
  const code = await runGate(args, { GATEHOUSE_HOME: home }, f.io);
  return { code, stdout: f.out(), stderr: f.err() };
}

describe('runGate', () => {
  const home = mkdtempSync(join(tmpdir(), 'gate-cli-'));
  test.after(() => rmSync(home, { recursive: true, force: true }));

  test('unknown commands and options exit 2 with ERROR: and the usage', async () => {
    let r = await gate(['frobnicate'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ERROR: unknown command "frobnicate"/);
    assert.match(r.stderr, /Commands:/);
    r = await gate(['ls', '--bogus'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ERROR: gate ls: Unknown option '--bogus'/);
  });

  test('commands that need a login say so and exit 4', async () => {
    for (const cmd of [['status'], ['ls'], ['ssh', 'web1', 'true'], ['logout']]) {
      const r = await gate(cmd, home);
      assert.equal(r.code, 4, cmd.join(' '));
      assert.equal(r.stderr, 'ERROR: not logged in; run "gate login --proxy ADDRESS --user NAME"\n');
      assert.equal(r.stdout, '');
    }
  });

  test('--help works on every command and prints to stdout', async () => {
    for (const cmd of ['login', 'status', 'ls', 'ssh', 'logout', 'set-password', 'version']) {
      const r = await gate([cmd, '--help'], home);
      assert.equal(r.code, 0, cmd);
      assert.match(r.stdout, new RegExp(`^Usage: gate ${cmd}`), cmd);
    }
    const top = await gate(['--help'], home);
    assert.equal(top.code, 0);
    for (const cmd of ['login', 'status', 'ls', 'ssh', 'logout', 'set-password', 'version'])
      assert.match(top.stdout, new RegExp(`\\n  ${cmd} `));
  });

  test('login without a proxy, and with a bad --ttl, are usage errors', async () => {
    let r = await gate(['login', '--user', 'a'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--proxy is required/);
    r = await gate(['login', '--proxy', '127.0.0.1:1', '--ttl', 'soon'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--ttl "soon"/);
  });

  test('an unreachable proxy is exit 5 naming the address', async () => {
    const r = await gate(['login', '--proxy', '127.0.0.1:1', '--user', 'a', '--password-stdin'], home);
    assert.equal(r.code, 5);
    assert.equal(r.stderr, 'ERROR: cannot reach the proxy at 127.0.0.1:1: ECONNREFUSED\n');
  });
});

test('splitSshArgs: options stop at the node; the rest is the command', () => {
  assert.deepEqual(splitSshArgs(['-l', 'root', 'web1', 'ls', '-la']), {
    options: ['-l', 'root'],
    target: 'web1',
    command: ['ls', '-la'],
  });
  assert.deepEqual(splitSshArgs(['-t', 'bob@web1']), { options: ['-t'], target: 'bob@web1', command: [] });
  assert.deepEqual(splitSshArgs(['--', '-weird-node', 'x']), { options: [], target: '-weird-node', command: ['x'] });
  assert.deepEqual(splitSshArgs(['--help']), { options: ['--help'], command: [] });
});

test('splitSshArgs: a "--" after the node ends the options and is not part of the command (as in OpenSSH)', () => {
  assert.deepEqual(splitSshArgs(['web1', '--', 'echo', 'hi']), {
    options: [],
    target: 'web1',
    command: ['echo', 'hi'],
  });
  assert.deepEqual(splitSshArgs(['web1', '-t', '--', 'ls', '-la']), {
    options: ['-t'],
    target: 'web1',
    command: ['ls', '-la'],
  });
  // Only the first "--" is taken; a later one belongs to the command.
  assert.deepEqual(splitSshArgs(['web1', '--', 'echo', '--']), {
    options: [],
    target: 'web1',
    command: ['echo', '--'],
  });
  assert.deepEqual(splitSshArgs(['web1', 'echo', '--']), { options: [], target: 'web1', command: ['echo', '--'] });
});

test('parseTtl', () => {
  assert.equal(parseTtl('1h30m'), 5400);
  assert.equal(parseTtl('45s'), 45);
  for (const bad of ['', '0m', '1d', 'h']) assert.throws(() => parseTtl(bad), /is not a duration/, bad);
});

test('node table: name first, labels sorted', () => {
  assert.equal(labelsText({ team: 'core', env: 'test' }), 'env=test,team=core');
  assert.equal(
    formatTable(
      ['Node Name', 'Address', 'Labels'],
      [
        ['web1', '10.0.0.1:3022', 'env=test'],
        ['a-much-longer-name', '10.0.0.2:3022', ''],
      ],
    ),
    [
      'Node Name           Address        Labels',
      '------------------  -------------  --------',
      'web1                10.0.0.1:3022  env=test',
      'a-much-longer-name  10.0.0.2:3022',
    ].join('\n'),
  );
});
