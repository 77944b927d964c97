// `gate ssh`: a shell or a command on a node through the proxy. Interactive use puts the local
// terminal in raw mode and forwards window size changes; a command keeps stdout and stderr
// apart and hands back the remote exit status as our own.
import { ErrorCode, GatehouseError, isGatehouseError } from '../../../src-shared/errors.ts';
import { requirementLines, type DeviceTrustStatus } from '../../core/device-trust-status.ts';
import { connectSsh } from '../../gateways/ssh/ssh-connect.ts';
import { exitCodeOfStatus, type SshChannel } from '../../gateways/ssh/ssh-session.ts';
import { parseCommandArgs, showHelp, type Command, type CommandContext } from '../context.ts';
import type { CliIo } from '../io.ts';
import { profileTrust } from './status.ts';

/** Options that take a value; everything from the first non-option on is [USER@]NODE COMMAND... */
const VALUE_OPTIONS = new Set(['-l', '--login']);

/**
 * Splits `gate ssh` arguments like OpenSSH's ssh does: options may come before and right after
 * the node; the first `--` ends them and is dropped (never sent as part of the command), and
 * the first other non-option after the node starts the command.
 */
export function splitSshArgs(args: string[]): { options: string[]; target?: string; command: string[] } {
  const options: string[] = [];
  let target: string | undefined;
  let i = 0;
  while (i < args.length) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      if (target === undefined) target = args[i++];
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      if (target !== undefined) break;
      target = a;
      i++;
      continue;
    }
    options.push(a);
    if (VALUE_OPTIONS.has(a) && i + 1 < args.length) options.push(args[++i]!);
    i++;
  }
  return target === undefined ? { options, command: [] } : { options, target, command: args.slice(i) };
}

function termSize(io: CliIo): { cols: number; rows: number } {
  return { cols: io.stdout.columns || 80, rows: io.stdout.rows || 24 };
}

export const sshCommand: Command = {
  name: 'ssh',
  usage: `Usage: gate ssh [-l LOGIN] [-t] [USER@]NODE [--] [COMMAND...]

Connects to NODE through the proxy with your certificates. Without COMMAND, opens an
interactive shell (on a terminal). With COMMAND, runs it and exits with its exit status.
As with ssh, options may also follow NODE; a "--" ends them and is not sent.

Options:
  -l, --login LOGIN   the login (OS user) on the node; also USER@NODE. Default: your local user
                      name when allowed, else your only login
  -t, --tty           allocate a terminal for COMMAND too
`,
  async run(ctx: CommandContext) {
    const split = splitSshArgs(ctx.args);
    const { values } = parseCommandArgs(this, split.options, {
      login: { type: 'string', short: 'l' },
      tty: { type: 'boolean', short: 't' },
    });
    if (values.help) return showHelp(ctx, this);
    if (!split.target)
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `gate ssh: name a node\n\n${this.usage.trimEnd()}`);
    let node = split.target;
    let login = values.login;
    const at = node.lastIndexOf('@');
    if (at >= 0) {
      login ??= node.slice(0, at);
      node = node.slice(at + 1);
    }
    if (!node || login === '')
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `gate ssh: "${split.target}" is not [USER@]NODE`);
    const profile = ctx.core.requireValidProfile();
    login ??= ctx.core.defaultLogin(profile);
    const command = split.command.join(' ');
    const interactive = command === '' && ctx.io.stdin.isTTY === true;
    const wantPty = interactive || values.tty === true;

    const conn = await connectSsh(ctx.core.proxyAccess(profile), node, login);
    try {
      const pty = wantPty ? { term: ctx.env.TERM || 'xterm-256color', ...termSize(ctx.io) } : undefined;
      let channel: SshChannel;
      try {
        channel = command ? await conn.exec(command, pty ? { pty } : {}) : await conn.shell(pty);
      } catch (e) {
        throw withDeviceTrustHint(e, profileTrust(ctx.core, profile));
      }
      const status = await (pty ? runWithTerminal(ctx.io, channel) : runPiped(ctx.io, channel));
      return exitCodeOfStatus(status);
    } finally {
      conn.close();
    }
  },
};

/**
 * The node's "unauthorized device" refusal keeps its words on the ERROR line; when this login is
 * not device-trusted, the next step follows as a hint line.
 */
export function withDeviceTrustHint(e: unknown, trust: DeviceTrustStatus): unknown {
  if (!isGatehouseError(e) || e.code !== ErrorCode.DEVICE_UNTRUSTED || trust.state === 'trusted') return e;
  const lines = requirementLines({ ...trust, required: true });
  return new GatehouseError(e.code, e.message, { ...e.details, hint: lines.join('\n') });
}

/** Plain streams: stdin → remote, remote stdout/stderr → ours, separately. */
async function runPiped(io: CliIo, channel: SshChannel) {
  channel.stdout.pipe(io.stdout, { end: false });
  channel.stderr.pipe(io.stderr, { end: false });
  io.stdin.pipe(channel.stdin);
  const status = await channel.exit;
  io.stdin.unpipe(channel.stdin);
  io.stdin.pause();
  return status;
}

/** Raw local terminal: keystrokes go through unchanged (Ctrl-C reaches the remote program). */
async function runWithTerminal(io: CliIo, channel: SshChannel) {
  const raw = io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function';
  if (raw) io.stdin.setRawMode!(true);
  // Node's stdout 'resize' and a SIGWINCH listener both fire on one change: send each size once.
  let last = termSize(io);
  const onResize = () => {
    const now = termSize(io);
    if (now.cols === last.cols && now.rows === last.rows) return;
    last = now;
    channel.resize(now.cols, now.rows);
  };
  io.stdout.on('resize', onResize);
  process.on('SIGWINCH', onResize);
  channel.stdout.pipe(io.stdout, { end: false });
  channel.stderr.pipe(io.stderr, { end: false });
  io.stdin.pipe(channel.stdin);
  io.stdin.resume();
  try {
    return await channel.exit;
  } finally {
    io.stdin.unpipe(channel.stdin);
    io.stdout.off('resize', onResize);
    process.off('SIGWINCH', onResize);
    if (raw) io.stdin.setRawMode!(false);
    io.stdin.pause();
  }
}
