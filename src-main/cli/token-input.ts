// One-time tokens (password-set, device enroll) are secrets: whoever has one can set the user's
// password or enroll a device as theirs. A token on the command line is visible to every local
// user in `ps` / /proc/<pid>/cmdline, so `gate` takes tokens from, in order:
//   --token T          still accepted for old scripts, with a warning (as tsh does for secrets)
//   --token-stdin      the first line of standard input
//   $GATEHOUSE_TOKEN   the environment (only the user and root can read /proc/<pid>/environ)
//   standard input     when it is not a terminal (a pipe or a file)
//   a prompt           on the terminal, without echo
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Command } from 'commander';
import type { CommandContext } from './context.ts';
import { note, prompt } from './io.ts';

export const TOKEN_ENV = 'GATEHOUSE_TOKEN';

/** --token-stdin and the deprecated --token, on a command that takes a one-time token. */
export function addTokenOptions(cmd: Command): Command {
  return cmd
    .option(
      '--token-stdin',
      `read the token from the first line of standard input (also: the ${TOKEN_ENV} environment variable, ` +
        'or piped standard input; asked for on a terminal otherwise)',
    )
    .option('--token <TOKEN>', 'deprecated: other users of this machine can read it in the process list');
}

export const TOKEN_ON_COMMAND_LINE_WARNING =
  'WARNING: --token puts the token in the process list, where other users of this machine can read it ' +
  `(ps). Pass it with --token-stdin, the ${TOKEN_ENV} environment variable or at the prompt instead.`;

/** Standard input is read once; several secrets on it come one per line, in the order asked. */
export class StdinLines {
  #lines: Promise<string[]> | undefined;
  #next = 0;

  constructor(private readonly ctx: CommandContext) {}

  /** The next line. */
  async next(what: string, usage: string): Promise<string> {
    const line = (await this.#read())[this.#next++];
    if (!line) throw new GatehouseError(ErrorCode.BAD_REQUEST, `no ${what} on standard input (${usage})`);
    return line;
  }

  /** Everything not yet taken, without the one trailing newline `echo` adds (a password may hold newlines). */
  async rest(what: string): Promise<string> {
    const text = (await this.#read()).slice(this.#next).join('\n').replace(/\n$/, '');
    this.#next = Infinity;
    if (!text) throw new GatehouseError(ErrorCode.BAD_REQUEST, `no ${what} on standard input`);
    return text;
  }

  #read(): Promise<string[]> {
    this.#lines ??= (async () => {
      const chunks: Buffer[] = [];
      for await (const c of this.ctx.io.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
      return Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
    })();
    return this.#lines;
  }
}

/** The token from the first source that has one (see the top of this file). */
export async function readToken(
  ctx: CommandContext,
  values: { token?: string; tokenStdin?: boolean },
  stdin: StdinLines,
  command: string,
): Promise<string> {
  if (values.token !== undefined && values.tokenStdin) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `${command}: give the token once, with --token-stdin or --token`);
  }
  if (values.token !== undefined) {
    note(ctx.io, TOKEN_ON_COMMAND_LINE_WARNING);
    if (values.token.trim() === '') throw new GatehouseError(ErrorCode.BAD_REQUEST, `${command}: --token is empty`);
    return values.token.trim();
  }
  const fromEnv = ctx.env[TOKEN_ENV]?.trim();
  if (!values.tokenStdin && fromEnv) return fromEnv;
  if (values.tokenStdin || !ctx.io.stdin.isTTY) {
    return (await stdin.next('token', `${command} reads the token from its first line`)).trim();
  }
  const answer = (await prompt(ctx.io, 'One-time token: ', { hidden: true })).trim();
  if (!answer) throw new GatehouseError(ErrorCode.BAD_REQUEST, `${command}: no token given`);
  return answer;
}
