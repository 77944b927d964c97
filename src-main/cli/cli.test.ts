// The gate CLI without a cluster: argument handling, tables, and how errors reach the user.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseTtl } from './commands/login.ts';
import { labelsText } from './commands/ls.ts';
import type { SshCommandLine } from './commands/ssh.ts';
import { sshCommandLine } from './families/nodes.ts';
import { onAction, runProgram } from '../../src-shared/cli/program.ts';
import { formatTable, type CliIo } from './io.ts';
import { gateProgram, runGate } from './main.ts';

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
    assert.match(r.stderr, /^ERROR: gate: unknown command 'frobnicate'/);
    assert.match(r.stderr, /Commands:/);
    r = await gate(['ls', '--bogus'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ERROR: gate ls: unknown option '--bogus'\n\nUsage: gate ls /);
    assert.equal(r.stdout, '');
    r = await gate(['status', 'extra'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ERROR: gate status: too many arguments/);
    r = await gate(['ls', '--format', 'yaml'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ERROR: gate ls: option '--format <FORMAT>' argument 'yaml' is invalid/);
    r = await gate(['proxy', 'ssh'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ERROR: gate proxy ssh: missing required argument 'NODE'/);
    r = await gate(['set-password'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ERROR: gate set-password: required option '--proxy <ADDRESS>' not specified/);
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
    assert.equal((await gate(['help', 'ls'], home)).stdout, (await gate(['ls', '--help'], home)).stdout);
    // No command at all is a usage error: the overview on stderr, exit 2.
    const bare = await gate([], home);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /^Usage: gate /);
    const version = await gate(['--version'], home);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^gate \d+\.\d+\.\d+\n$/);
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

/** How the real `gate` program parses an ssh command line, with the action swapped for a probe. */
async function parsedSsh(args: string[]): Promise<SshCommandLine | { code: number; stderr: string }> {
  const f = fakeIo();
  const program = gateProgram(() => {
    throw new Error('the probe needs no context');
  });
  const ssh = program.commands.find((c) => c.name() === 'ssh')!;
  let line: SshCommandLine | undefined;
  onAction(ssh, async (cmd) => {
    line = sshCommandLine(cmd);
  });
  const code = await runProgram(program, ['ssh', ...args], {
    writeOut: (t) => f.io.stdout.write(t),
    writeErr: (t) => f.io.stderr.write(t),
  });
  return line ?? { code, stderr: f.err() };
}

test('gate ssh: options stop at the node; the rest is the command', async () => {
  assert.deepEqual(await parsedSsh(['-l', 'root', 'web1', 'ls', '-la']), {
    login: 'root',
    target: 'web1',
    command: ['ls', '-la'],
  });
  assert.deepEqual(await parsedSsh(['-t', 'bob@web1']), { tty: true, target: 'bob@web1', command: [] });
  assert.deepEqual(await parsedSsh(['--', '-weird-node', 'x']), { target: '-weird-node', command: ['x'] });
  assert.deepEqual(await parsedSsh(['--login=alice', 'web1']), { login: 'alice', target: 'web1', command: [] });
});

test('gate ssh: a "--" after the node ends the options and is not part of the command (as in OpenSSH)', async () => {
  assert.deepEqual(await parsedSsh(['web1', '--', 'echo', 'hi']), { target: 'web1', command: ['echo', 'hi'] });
  assert.deepEqual(await parsedSsh(['web1', '-t', '--', 'ls', '-la']), {
    tty: true,
    target: 'web1',
    command: ['ls', '-la'],
  });
  assert.deepEqual(await parsedSsh(['web1', '-l', 'bob', 'id']), { login: 'bob', target: 'web1', command: ['id'] });
  // Only the first "--" is taken; a later one belongs to the command.
  assert.deepEqual(await parsedSsh(['web1', '--', 'echo', '--']), { target: 'web1', command: ['echo', '--'] });
  assert.deepEqual(await parsedSsh(['web1', 'echo', '--']), { target: 'web1', command: ['echo', '--'] });
});

test('gate ssh: unknown options before or after the node, and a missing node, are usage errors', async () => {
  for (const args of [['-x', 'web1'], ['web1', '-q', 'ls'], []]) {
    const r = await parsedSsh(args);
    assert.ok('code' in r, args.join(' '));
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^ERROR: gate ssh: (unknown option '-[xq]'|name a node)/, args.join(' '));
    assert.match(r.stderr, /\nUsage: gate ssh /);
  }
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
