// The wiring the three CLIs (`gate`, `gatectl`, `gatehouse`) share on top of commander: where
// help and errors are written (so tests capture them), and one rule for exit codes:
//   - help and --version: 0;
//   - a usage error (unknown command or option, missing or excess argument, no subcommand):
//     "ERROR: <command path>: <what>" and the command's help on stderr, exit code of BAD_REQUEST;
//   - a GatehouseError from a command: "ERROR: <message>" (then its hint line, if any), the exit
//     code of its ErrorCode, so scripts branch on the same codes as before commander;
//   - anything else: "ERROR: <message>", exit 1.
// Commands declare their options and arguments with commander; their action resolves to the
// process exit code (see `onAction`), which `runProgram` hands back instead of exiting.
import { Command, CommanderError, type Argument } from 'commander';
import { ErrorCode, exitCodeFor, isGatehouseError } from '../errors.ts';

/** Where a program writes: the terminal in production, buffers in tests. */
export interface CliOutput {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

export const USAGE_EXIT_CODE = exitCodeFor(ErrorCode.BAD_REQUEST);

/** What help and version output use; commander's own exit codes never reach the process. */
const SUCCESSFUL_EXITS = new Set(['commander.helpDisplayed', 'commander.version']);

/** Each root command's action exit code, set by `onAction` and read by `runProgram`. */
const actionExitCodes = new WeakMap<Command, number>();

export function processOutput(): CliOutput {
  return { writeOut: (t) => process.stdout.write(t), writeErr: (t) => process.stderr.write(t) };
}

/**
 * A root command named `name`. Options belong to the command they follow (positional options),
 * so a subcommand may pass its arguments through untouched (`gate ssh NODE ls -la`).
 */
export function createProgram(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .enablePositionalOptions()
    .helpOption('-h, --help', 'show this help')
    .helpCommand('help [command]', 'show the help of a command')
    .showHelpAfterError(true)
    .configureHelp({
      commandDescription: (cmd) => prose(cmd.description()),
      // "enroll", not "enroll [options]": every command has options; its own help lists them.
      subcommandTerm: (cmd) => [cmd.name(), ...cmd.registeredArguments.map(argumentTerm)].join(' '),
    });
}

function argumentTerm(arg: Argument): string {
  const name = arg.name() + (arg.variadic ? '...' : '');
  return arg.required ? `<${name}>` : `[${name}]`;
}

/**
 * Joins the hand-wrapped lines of each paragraph so help wraps once, at the terminal's width,
 * instead of commander re-wrapping lines that were already broken at 100 columns. A paragraph
 * with an indented line (an example command) is kept as written.
 */
export function prose(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((p) => (/\n\s/.test(p) ? p : p.replace(/\n/g, ' ')))
    .join('\n\n');
}

/** Registers `run` as the action of `cmd`; what it resolves to becomes the exit code (default 0). */
export function onAction(cmd: Command, run: (cmd: Command) => Promise<number | void>): Command {
  return cmd.action(async (...args: unknown[]) => {
    const self = args[args.length - 1] as Command;
    const code = await run(self);
    actionExitCodes.set(rootOf(self), code ?? 0);
  });
}

/** "gatectl devices add": how messages name a command. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

function everyCommand(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(everyCommand)];
}

/**
 * Routes output to `out` and makes commander throw instead of exiting, on every command: set
 * here rather than once on the root because the ERROR line names the command that failed and
 * commands registered before the root was configured would not inherit the settings.
 */
function wireOutput(program: Command, out: CliOutput): void {
  for (const cmd of everyCommand(program)) {
    const path = commandPath(cmd);
    cmd.configureOutput({
      writeOut: (t) => out.writeOut(t),
      writeErr: (t) => out.writeErr(t),
      outputError: (t, write) => write(`ERROR: ${path}: ${t.replace(/^error: /, '')}`),
    });
    cmd.exitOverride();
  }
}

/** Writes a failure the way every CLI reports one and returns its exit code. */
export function reportFailure(e: unknown, out: CliOutput, debug = false): number {
  if (e instanceof CommanderError) {
    if (SUCCESSFUL_EXITS.has(e.code)) return 0;
    // Help shown on request exits 0; help shown because no subcommand was given is a usage error.
    if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    return USAGE_EXIT_CODE;
  }
  const err = isGatehouseError(e) ? e : undefined;
  out.writeErr(`ERROR: ${err?.message ?? (e as Error)?.message ?? String(e)}\n`);
  // What to do about it, on its own line so the ERROR line stays the error's own words.
  const hint = err?.details?.hint;
  if (typeof hint === 'string' && hint) out.writeErr(`${hint}\n`);
  if (!err && debug) out.writeErr(`${(e as Error)?.stack ?? ''}\n`);
  return err ? exitCodeFor(err.code) : 1;
}

/** Parses `argv` (the arguments after the program name), runs the action, resolves to the exit code. */
export async function runProgram(
  program: Command,
  argv: string[],
  out: CliOutput,
  opts: { debug?: boolean } = {},
): Promise<number> {
  wireOutput(program, out);
  actionExitCodes.delete(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    return reportFailure(e, out, opts.debug);
  }
  return actionExitCodes.get(program) ?? 0;
}
