// `gate ssh`: a shell or a command on a node through the proxy. Interactive use puts the local
// terminal in raw mode and forwards window size changes; a command keeps stdout and stderr
// apart and hands back the remote exit status as our own.
import { ErrorCode, GatehouseError, isGatehouseError } from '../../../src-shared/errors.ts';
import { requirementLines, type DeviceTrustStatus } from '../../core/device-trust-status.ts';
import { connectSsh } from '../../gateways/ssh/ssh-connect.ts';
import { exitCodeOfStatus, type SshChannel } from '../../gateways/ssh/ssh-session.ts';
import type { CommandContext } from '../context.ts';
import type { CliIo } from '../io.ts';
import { profileTrust } from './status.ts';

/** A `gate ssh` command line once parsed (families/nodes.ts parses it the way OpenSSH does). */
export interface SshCommandLine {
  login?: string;
  tty?: boolean;
  /** [USER@]NODE */
  target: string;
  /** The remote command's words; empty for a shell. */
  command: string[];
}

function termSize(io: CliIo): { cols: number; rows: number } {
  return { cols: io.stdout.columns || 80, rows: io.stdout.rows || 24 };
}

/** `gate ssh`: resolves to the remote exit status. */
export async function ssh(ctx: CommandContext, line: SshCommandLine): Promise<number> {
  let node = line.target;
  let login = line.login;
  const at = node.lastIndexOf('@');
  if (at >= 0) {
    login ??= node.slice(0, at);
    node = node.slice(at + 1);
  }
  if (!node || login === '')
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `gate ssh: "${line.target}" is not [USER@]NODE`);
  const profile = ctx.core.requireValidProfile();
  login ??= ctx.core.defaultLogin(profile);
  const command = line.command.join(' ');
  const interactive = command === '' && ctx.io.stdin.isTTY === true;
  const wantPty = interactive || line.tty === true;

  // connectSsh sends the locale of gate's environment (LANG, LC_*; see gateways/ssh/locale-env.ts).
  const conn = await connectSsh(ctx.core.proxyAccess(profile), node, login, ctx.env);
  try {
    const pty = wantPty ? { term: ctx.env.TERM || 'xterm-256color', ...termSize(ctx.io) } : undefined;
    let channel: SshChannel;
    try {
      channel = command ? await conn.exec(command, pty ? { pty } : {}) : await conn.shell(pty);
    } catch (e) {
      throw withDeviceTrustHint(e, profileTrust(ctx.core, profile));
    }
    const status = await (pty ? runWithTerminal(ctx.io, channel) : runPiped(ctx.io, channel));
    // Exit 255 alone says nothing (the remote command may exit 255 too): say what happened, as
    // OpenSSH does, so a script's log shows a dropped connection rather than an empty failure.
    if (status.code === null && !status.signal) ctx.io.stderr.write(`${endedWithoutStatus(node, command)}\n`);
    return exitCodeOfStatus(status);
  } finally {
    conn.close();
  }
}

/** What gate prints when the channel closed with neither an exit status nor an exit signal. */
export function endedWithoutStatus(node: string, command: string): string {
  const what = command ? 'the remote command' : 'the remote shell';
  return `gate: the connection to ${node} ended before ${what} reported its exit status`;
}

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
