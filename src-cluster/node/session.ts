// One SSH "session" channel: collects pty and env requests, then starts exactly one shell or
// command as the resolved OS user, and reports how it ended (exit-status / exit-signal).
import type { Session, ServerChannel, PseudoTtyInfo, WindowChangeInfo } from 'ssh2';
import type { SshCertificate } from '../../src-shared/sshcert/types.ts';
import type { Logger } from './types.ts';
import type { OsUser } from './os-user.ts';
import { workingDirectory } from './os-user.ts';
import { ClientEnv, buildSessionEnv, type ConnectionEndpoints, type EnvAllowList } from './session-env.ts';
import {
  startPipedProcess,
  startPtyProcess,
  type ExitResult,
  type ProcessSpec,
  type PtySize,
  type SessionProcess,
} from './process-runner.ts';
import type { SessionAudit } from './session-audit.ts';

type Reject = (() => void) | undefined;
type Accept = (() => void) | undefined;

/** Signals a client may deliver to its program (RFC 4254 §6.9 names). */
const FORWARDABLE_SIGNALS = new Set([
  'ABRT',
  'ALRM',
  'FPE',
  'HUP',
  'ILL',
  'INT',
  'KILL',
  'PIPE',
  'QUIT',
  'SEGV',
  'TERM',
  'USR1',
  'USR2',
]);

const KILL_GRACE_MS = 2000;
/** How long a finished session waits for the client to answer our channel close. */
const CLOSE_ACK_GRACE_MS = 2000;

export interface SessionContext {
  cert: SshCertificate;
  login: string;
  user: OsUser;
  /** True when the node runs as root and must drop to `user` before running anything. */
  switchUser: boolean;
  /** setpriv(1), used to switch user with the user's supplementary groups. */
  setprivPath: string;
  /** Group that owns terminals (Debian: tty); the user's own group when there is none. */
  ttyGid: number | undefined;
  endpoints: ConnectionEndpoints;
  logger: Logger;
  audit?: SessionAudit;
  /** ssh_service.accept_env: the client variables the session takes (default LANG, LC_*). */
  acceptEnv?: EnvAllowList;
}

export class NodeSession {
  private ptySize: PtySize | undefined;
  private readonly clientEnv: ClientEnv;
  private channel: ServerChannel | undefined;
  private proc: SessionProcess | undefined;
  private ending = false;
  private closedByClient = false;
  /** Why the node ended the session (shutdown, lock, certificate expiry); goes into session.end. */
  private endReason = '';
  /** Resolves when the channel is finished (process reported, or the session closed without one). */
  readonly done: Promise<void>;
  private markDone!: () => void;

  constructor(
    session: Session,
    private readonly ctx: SessionContext,
  ) {
    this.clientEnv = new ClientEnv(ctx.acceptEnv);
    this.done = new Promise((resolve) => (this.markDone = resolve));
    session.on('close', () => this.onClientClosed());
    session.on('pty', (accept, reject, info) => this.onPty(accept, reject, info));
    session.on('window-change', (accept, reject, info) => this.onWindowChange(accept, reject, info));
    session.on('env', (accept, reject, info) => this.onEnv(accept, reject, info));
    session.on('signal', (accept, reject, info) => this.onSignal(accept, reject, info.name));
    session.on('shell', (accept, reject) => void this.start(accept, reject, undefined));
    session.on('exec', (accept, reject, info) => void this.start(accept, reject, info.command));
    session.on('x11', (_a, reject) => this.refuse(reject, 'X11 forwarding'));
    session.on('auth-agent', (_a, reject) => this.refuse(reject, 'agent forwarding'));
    session.on('subsystem', (_a, reject, info) => this.refuse(reject, `subsystem "${info.name}"`));
    session.on('sftp', (_a, reject) => this.refuse(reject, 'subsystem "sftp"'));
  }

  private refuse(reject: Reject, what: string): void {
    this.ctx.logger.info('session request refused', { what, login: this.ctx.login, user: this.ctx.cert.keyId });
    reject?.();
  }

  private onPty(accept: Accept, reject: Reject, info: PseudoTtyInfo): void {
    if (this.channel) return reject?.();
    this.ptySize = { term: info.term, cols: info.cols, rows: info.rows };
    accept?.();
  }

  private onWindowChange(accept: Accept, reject: Reject, info: WindowChangeInfo): void {
    if (!this.ptySize) return reject?.();
    this.ptySize = { ...this.ptySize, cols: info.cols, rows: info.rows };
    this.proc?.resize(info.cols, info.rows);
    accept?.();
  }

  private onEnv(accept: Accept, reject: Reject, info: { key: string; val: string }): void {
    if (!this.channel && this.clientEnv.offer(info.key, info.val)) return accept?.();
    // Logged by name only: a refused value may be anything the client chose to send.
    this.ctx.logger.debug('environment variable refused', { name: info.key.slice(0, 64), login: this.ctx.login });
    reject?.();
  }

  private onSignal(accept: Accept, reject: Reject, name: string): void {
    const bare = name.toUpperCase().replace(/^SIG/, '');
    if (!this.proc || !FORWARDABLE_SIGNALS.has(bare)) return reject?.();
    this.proc.kill(`SIG${bare}` as NodeJS.Signals);
    accept?.();
  }

  private async start(
    accept: () => ServerChannel | undefined,
    reject: Reject,
    requested: string | undefined,
  ): Promise<void> {
    if (this.channel || this.ending) return reject?.();
    // Accept before any await: ssh2 refuses a late accept once the client has sent EOF, and
    // `ssh host cmd </dev/null` sends EOF right behind the exec request.
    const channel = accept();
    if (!channel) return;
    this.channel = channel;
    // A dropped connection closes the channel without a "close" on the session.
    channel.once('close', () => this.onClientClosed());
    const forced = this.ctx.cert.criticalOptions['force-command'];
    const command = forced ?? requested;
    const fields = {
      user: this.ctx.cert.keyId,
      login: this.ctx.login,
      client: this.ctx.endpoints.clientAddress,
      command: command ?? '(shell)',
      pty: this.ptySize !== undefined,
    };
    try {
      const spec = await this.processSpec(command, forced !== undefined ? (requested ?? '') : undefined);
      if (this.ending) return await this.finish({ code: 255 });
      await this.ctx.audit?.started({ command: command ?? '', pty: this.ptySize !== undefined });
      const owner = this.ctx.switchUser
        ? { uid: this.ctx.user.uid, gid: this.ctx.ttyGid ?? this.ctx.user.gid }
        : undefined;
      this.proc = this.ptySize ? startPtyProcess(channel, spec, this.ptySize, owner) : startPipedProcess(channel, spec);
    } catch (err) {
      this.ctx.logger.error('session program failed to start', { ...fields, error: err as Error });
      await this.ctx.audit?.ended(undefined, `the session program failed to start: ${(err as Error).message}`);
      await this.finish({ code: 127 }, `gatehouse: cannot start the session: ${(err as Error).message}\n`);
      return;
    }
    this.ctx.logger.info('session started', { ...fields, pid: this.proc.pid });
    const result = await this.proc.exited;
    this.ctx.logger.info('session ended', { ...fields, ...result });
    await this.ctx.audit?.ended(result, this.endReason);
    await this.finish(result);
  }

  private async processSpec(command: string | undefined, originalCommand: string | undefined): Promise<ProcessSpec> {
    const { user } = this.ctx;
    const shell = user.shell || '/bin/sh';
    const env = buildSessionEnv({
      user,
      shell,
      clientEnv: this.clientEnv,
      endpoints: this.ctx.endpoints,
      term: this.ptySize?.term,
      originalCommand,
      gatehouseUser: this.ctx.cert.keyId,
    });
    // A login shell reads the user's profile, as with sshd; a command runs as `shell -c`.
    const argv = command === undefined ? [shell, '-l'] : [shell, '-c', command];
    const cwd = await workingDirectory(user);
    if (!this.ctx.switchUser) return { file: argv[0]!, args: argv.slice(1), env, cwd };
    return {
      file: this.ctx.setprivPath,
      args: ['--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--', ...argv],
      env,
      cwd,
    };
  }

  /** Waits until what was written has left (or the channel went away), then reports and closes. */
  private async finish(result: ExitResult, stderrNote?: string): Promise<void> {
    const channel = this.channel;
    if (channel && isOpen(channel)) {
      if (stderrNote) channel.stderr.write(stderrNote);
      await flushed(channel);
      try {
        if (result.signal !== undefined) channel.exit(result.signal, false, '');
        else channel.exit(result.code);
      } catch {
        // A signal SSH has no name for: report it the way shells do.
        channel.exit(128 + 1);
      }
      channel.end();
      // The client answers our close only once it has written out what it received. Until then
      // the session is not done: whoever disconnects next (node shutdown, a lock) would otherwise
      // overtake the last output, and OpenSSH drops buffered output when a disconnect arrives.
      await closedByPeer(channel, CLOSE_ACK_GRACE_MS);
    }
    this.markDone();
  }

  /**
   * False once the client has closed the channel (or the connection went). What max_sessions
   * counts: set synchronously when the close arrives, so a channel the client opens right after
   * closing another finds the slot free even before this session's clean-up has run.
   */
  get open(): boolean {
    return !this.closedByClient;
  }

  /** The connection ended; ssh2 reports no "close" for a session that never got a channel. */
  connectionClosed(): void {
    this.onClientClosed();
  }

  private onClientClosed(): void {
    if (this.closedByClient) return;
    this.closedByClient = true;
    this.ending = true;
    const proc = this.proc;
    if (!proc) {
      if (!this.channel) this.markDone();
      return;
    }
    // Like a hang-up on a terminal; a program that ignores it is killed after a grace period.
    proc.muteOutput();
    proc.kill('SIGHUP');
    const killer = setTimeout(() => proc.kill('SIGKILL'), KILL_GRACE_MS);
    killer.unref();
    void this.done.then(() => clearTimeout(killer));
  }

  /** Node shutdown: tell the user why, stop the program, report its end, close. */
  async terminate(message: string): Promise<void> {
    if (this.ending && !this.proc) return this.done;
    this.ending = true;
    this.endReason = message;
    const channel = this.channel;
    if (!channel || !this.proc) {
      // No program yet: closing the connection (the server's next step) ends the session.
      this.markDone();
      return;
    }
    if (isOpen(channel)) {
      if (this.ptySize) channel.write(`\r\n${message}\r\n`);
      else channel.stderr.write(`${message}\n`);
    }
    const proc = this.proc;
    proc.muteOutput();
    proc.kill('SIGHUP');
    const killer = setTimeout(() => proc.kill('SIGKILL'), KILL_GRACE_MS);
    await this.done;
    clearTimeout(killer);
  }
}

function isOpen(channel: ServerChannel): boolean {
  return (channel as unknown as { outgoing: { state: string } }).outgoing.state === 'open';
}

/** Resolves when the client has closed its side of the channel, or after `graceMs` (a peer that stopped reading). */
function closedByPeer(channel: ServerChannel, graceMs: number): Promise<void> {
  const incoming = (channel as unknown as { incoming: { state: string } }).incoming;
  if (incoming.state === 'closed') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, graceMs);
    channel.once('close', done);
    function done(): void {
      clearTimeout(timer);
      channel.off('close', done);
      resolve();
    }
  });
}

/**
 * Resolves when stdout and stderr data queued so far has been sent. ssh2 never calls a write
 * callback once the channel is closed, so the channel's own close ends the wait too.
 */
function flushed(channel: ServerChannel): Promise<void> {
  return new Promise((resolve) => {
    let pending = 2;
    const one = () => {
      if (--pending === 0) {
        channel.off('close', resolve);
        resolve();
      }
    };
    channel.once('close', resolve);
    channel.write(Buffer.alloc(0), one);
    channel.stderr.end(one);
  });
}
