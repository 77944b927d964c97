// The exit-code and output contract every CLI gets from runProgram, on a small program built the
// way the real ones are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../errors.ts';
import { createProgram, onAction, prose, runProgram, USAGE_EXIT_CODE } from './program.ts';

function capture() {
  let out = '';
  let err = '';
  return {
    output: { writeOut: (t: string) => (out += t), writeErr: (t: string) => (err += t) },
    out: () => out,
    err: () => err,
  };
}

/** `tool greet NAME [--loud]`, `tool fail CODE`, `tool crash`, `tool exit N` and `tool group sub`. */
function toolProgram() {
  const program = createProgram('tool', 'A tool for tests.');
  onAction(program.command('greet').argument('<name>').option('--loud', 'shout'), async (cmd) => {
    const name = cmd.processedArgs[0] as string;
    greeted.push(cmd.opts<{ loud?: boolean }>().loud ? name.toUpperCase() : name);
  });
  onAction(program.command('fail').argument('<code>'), async (cmd) => {
    throw new GatehouseError(cmd.processedArgs[0] as ErrorCode, 'it failed', { hint: 'try again' });
  });
  onAction(program.command('crash'), async () => {
    throw new TypeError('boom');
  });
  onAction(program.command('exit').argument('<n>'), async (cmd) => Number(cmd.processedArgs[0]));
  onAction(program.command('group').command('sub'), async () => 0);
  return program;
}
const greeted: string[] = [];

async function run(argv: string[]) {
  const c = capture();
  const code = await runProgram(toolProgram(), argv, c.output);
  return { code, out: c.out(), err: c.err() };
}

test('the usage exit code is the one of BAD_REQUEST (2), as before commander', () => {
  assert.equal(USAGE_EXIT_CODE, 2);
});

test('a successful action exits 0, or with the code it resolves to', async () => {
  const r = await run(['greet', 'ann', '--loud']);
  assert.deepEqual([r.code, r.out, r.err], [0, '', '']);
  assert.equal(greeted.at(-1), 'ANN');
  assert.equal((await run(['exit', '42'])).code, 42);
});

test('help is written to the output given, and exits 0', async () => {
  for (const argv of [['--help'], ['help'], ['greet', '--help'], ['help', 'greet'], ['group', 'sub', '-h']]) {
    const r = await run(argv);
    assert.equal(r.code, 0, argv.join(' '));
    assert.match(r.out, /^Usage: tool /, argv.join(' '));
    assert.equal(r.err, '', argv.join(' '));
  }
});

test('usage errors name the command, show its help on stderr and exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['greet'], /^ERROR: tool greet: missing required argument 'name'\n\nUsage: tool greet /],
    [['greet', 'a', 'b'], /^ERROR: tool greet: too many arguments for 'greet'/],
    [['greet', 'a', '--quiet'], /^ERROR: tool greet: unknown option '--quiet'/],
    [['gret'], /^ERROR: tool: unknown command 'gret'\n\(Did you mean greet\?\)\n\nUsage: tool /],
    [['group', 'nope'], /^ERROR: tool group: unknown command 'nope'/],
  ];
  for (const [argv, expected] of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, expected, argv.join(' '));
    assert.equal(r.out, '', argv.join(' '));
  }
  // A command that needs a subcommand and got none shows its help as the error.
  for (const argv of [[], ['group']]) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, /^Usage: tool /);
  }
});

test('a GatehouseError exits with the code of its ErrorCode, with its hint on the next line', async () => {
  const expected: [ErrorCode, number][] = [
    [ErrorCode.NOT_FOUND, 3],
    [ErrorCode.NOT_LOGGED_IN, 4],
    [ErrorCode.PROXY_UNREACHABLE, 5],
    [ErrorCode.ALREADY_EXISTS, 6],
    [ErrorCode.TPM_ERROR, 7],
    [ErrorCode.BAD_REQUEST, 2],
  ];
  for (const [code, exit] of expected) {
    const r = await run(['fail', code]);
    assert.equal(r.code, exit, code);
    assert.equal(r.err, 'ERROR: it failed\ntry again\n');
  }
});

test('any other error exits 1 with its message; the stack only when debugging', async () => {
  const r = await run(['crash']);
  assert.deepEqual([r.code, r.err], [1, 'ERROR: boom\n']);
  const c = capture();
  assert.equal(await runProgram(toolProgram(), ['crash'], c.output, { debug: true }), 1);
  assert.match(c.err(), /^ERROR: boom\nTypeError: boom\n {4}at /);
});

test('prose joins hand-wrapped lines per paragraph and keeps indented examples as written', () => {
  assert.equal(prose('one\ntwo\n\nthree'), 'one two\n\nthree');
  assert.equal(prose('Run:\n\n  a \\\n    b'), 'Run:\n\n  a \\\n    b');
});
