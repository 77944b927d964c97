// Terminal input and output for `gate`: prompts without echo, reading a secret from stdin, and
// the streams commands write to. Kept apart so commands stay testable with plain streams.
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

export interface CliIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable;
}

export function processIo(): CliIo {
  return {
    // A getter: the first read of process.stdin opens it (a pipe or TTY handle), which only the
    // commands that read it should pay for, not `gate --version`.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
  };
}

export const print = (io: CliIo, text = '') => io.stdout.write(text + '\n');
export const note = (io: CliIo, text = '') => io.stderr.write(text + '\n');

/** All of stdin, without the one trailing newline `echo` adds (for --password-stdin). */
export async function readSecretFromStdin(io: CliIo, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!text) throw new GatehouseError(ErrorCode.BAD_REQUEST, `no ${what} on standard input`);
  return text;
}

/**
 * Asks on the terminal. With `hidden`, typed characters are not echoed (raw mode, handling
 * backspace, Ctrl-C and Ctrl-D ourselves, since readline cannot mute its echo cleanly).
 */
export function prompt(io: CliIo, question: string, opts: { hidden?: boolean } = {}): Promise<string> {
  const { stdin, stderr } = io;
  if (!stdin.isTTY || !stdin.setRawMode) {
    return Promise.reject(new GatehouseError(ErrorCode.BAD_REQUEST, 'no terminal to ask on'));
  }
  return new Promise((resolve, reject) => {
    let answer = '';
    const finish = (err?: GatehouseError) => {
      stdin.off('data', onData);
      stdin.setRawMode!(false);
      stdin.pause();
      stderr.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of Buffer.isBuffer(chunk) ? chunk.toString('utf8') : chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new GatehouseError(ErrorCode.BAD_REQUEST, 'interrupted'));
        if (ch === '\u0004') {
          if (answer === '') return finish(new GatehouseError(ErrorCode.BAD_REQUEST, 'no answer given'));
          return finish();
        }
        if (ch === '\u007f' || ch === '\b') {
          if (answer.length > 0) {
            answer = [...answer].slice(0, -1).join('');
            if (!opts.hidden) stderr.write('\b \b');
          }
          continue;
        }
        if (ch === '\u0015') {
          // Ctrl-U: start over.
          if (!opts.hidden) stderr.write('\b \b'.repeat([...answer].length));
          answer = '';
          continue;
        }
        if (ch < ' ') continue;
        answer += ch;
        if (!opts.hidden) stderr.write(ch);
      }
    };
    // Raw mode (no echo) before the question shows: an answer typed as soon as it appears must
    // not reach a terminal that still echoes (seen with a secret typed right after its prompt).
    stdin.setRawMode!(true);
    stdin.resume();
    stdin.on('data', onData);
    stderr.write(question);
  });
}

/** Left-aligned columns separated by two spaces, with a dashed rule under the header. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
