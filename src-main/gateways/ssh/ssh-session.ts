// SSH to a node through the proxy with ssh2: user certificate authentication, host certificate
// verification against the cluster's SSH host CA (principal = node name), and channels for a
// command (separate stdout/stderr, exit status) or an interactive shell with a pty that can be
// resized. Nothing here touches a terminal: the CLI and a desktop terminal tab wire the streams.
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { Client, type Algorithms, type ClientChannel, type ConnectConfig, type ShellOptions } from 'ssh2';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { assertPatchedSsh2 } from '../../../src-shared/ssh2-vendored.ts';
import { clientAlgorithms, SSH_IDENT } from '../../../src-shared/ssh-algorithms.ts';
import {
  parseAuthorizedKey,
  parseCertificate,
  verifyCertificate,
  fingerprintSha256,
} from '../../../src-shared/sshcert/index.ts';
import { privateKeyToOpenSSH } from '../../../src-shared/sshcert/index.ts';
import type { TlsFailureExplainer } from '../../core/api-errors.ts';
import type { ProfileCredentials } from '../../core/profiles.ts';
import type { ProxyAddress } from '../../core/proxy-address.ts';
import { silentLogger, type Clock, type CoreLogger } from '../../core/types.ts';
import { dialNodeThroughProxy } from './ssh-route.ts';

/** SSH channel-open failure reason 1 (RFC 4254 §5.1). */
const OPEN_ADMINISTRATIVELY_PROHIBITED = 1;

export interface SshConnectOptions {
  proxy: ProxyAddress;
  /** Dialled in order when the proxy cannot be reached (never on a trust failure). */
  alternateProxies?: ProxyAddress[];
  proxyCaPem: string;
  credentials: ProfileCredentials;
  /** The cluster's SSH host CA keys (authorized_keys lines) from the login. */
  sshHostCaKeys: string[];
  node: string;
  login: string;
  clock: Clock;
  timeoutMs?: number;
  logger?: CoreLogger;
  explainTls?: TlsFailureExplainer;
  /** Environment requests every session channel sends first (the locale: see locale-env.ts). */
  sendEnv?: Record<string, string>;
}

export interface PtyOptions {
  term: string;
  cols: number;
  rows: number;
}

/**
 * The SSH window granted on a channel with a pty (the app's terminal, `gate ssh` on a tty), and
 * the most ssh2 buffers for it: after Ctrl+C everything already granted is still drawn before the
 * prompt, so an interactive session keeps this small; the pty's writer blocks once it is used up.
 * Bulk channels (no pty) keep ssh2's 8 MiB default for throughput through the proxy hop.
 * OpenSSH grants 2 MiB per session; measured in BENCHMARKS.md "Issue 16: Ctrl+C in a flood".
 */
export const PTY_CHANNEL_WINDOW = 256 * 1024;

export interface ExitStatus {
  /** The remote exit code; null when the command died from a signal or the channel was lost. */
  code: number | null;
  /** Signal name without "SIG" when the remote process was killed by one. */
  signal?: string;
}

/** Exit code a CLI should use for a remote exit status, the way shells report signals. */
export function exitCodeOfStatus(s: ExitStatus): number {
  if (s.code !== null) return s.code;
  if (s.signal) {
    const n = (osConstants.signals as Record<string, number>)[`SIG${s.signal}`];
    return 128 + (n ?? 1);
  }
  return 255; // like ssh: the connection ended without an exit status
}

/** One open channel: a command or a shell. */
export class SshChannel {
  readonly exit: Promise<ExitStatus>;

  constructor(
    private readonly channel: ClientChannel,
    readonly hasPty: boolean,
  ) {
    let status: ExitStatus = { code: null };
    channel.on('exit', (code: number | null, signal?: string) => {
      status =
        code !== null && code !== undefined
          ? { code }
          : signal
            ? { code: null, signal: signal.replace(/^SIG/, '') }
            : { code: null };
    });
    // 'close' comes after all data and the exit status, so waiting for it loses no output.
    this.exit = new Promise((resolve) => channel.once('close', () => resolve(status)));
  }

  get stdin(): Writable {
    return this.channel;
  }

  get stdout(): Readable {
    return this.channel;
  }

  /** With a pty the remote side merges stderr into stdout; without one this is the remote stderr. */
  get stderr(): Readable {
    return this.channel.stderr;
  }

  resize(cols: number, rows: number): void {
    if (this.hasPty) this.channel.setWindow(rows, cols, 0, 0);
  }

  signal(name: string): void {
    this.channel.signal(name.replace(/^SIG/, ''));
  }

  /** Sends EOF on stdin (the remote command sees its input end). */
  endInput(): void {
    this.channel.end();
  }

  close(): void {
    this.channel.close();
  }
}

/** Why the host was refused, so the handshake error can say it in words. */
interface HostCheck {
  reason?: string;
}

export class SshConnection {
  private closed = false;
  readonly done: Promise<void>;

  private constructor(
    private readonly client: Client,
    readonly node: string,
    readonly login: string,
    private readonly sendEnv: Record<string, string> = {},
  ) {
    this.done = new Promise((resolve) => client.once('close', () => resolve()));
    client.on('close', () => (this.closed = true));
  }

  static async open(opts: SshConnectOptions): Promise<SshConnection> {
    // A stock ssh2 cannot send the user certificate; say so before dialing, not after a refused login.
    assertPatchedSsh2();
    const log = opts.logger ?? silentLogger;
    const timeoutMs = opts.timeoutMs ?? 20_000;
    const socket = await dialNodeThroughProxy({
      proxy: opts.proxy,
      ...(opts.alternateProxies ? { alternateProxies: opts.alternateProxies } : {}),
      proxyCaPem: opts.proxyCaPem,
      client: { certPem: opts.credentials.tlsCertificatePem, keyPem: opts.credentials.key.privateKeyPem },
      node: opts.node,
      timeoutMs,
      ...(opts.explainTls ? { explainTls: opts.explainTls } : {}),
      reuseReads: true,
    });
    const hostCAs = opts.sshHostCaKeys.map((line) => parseAuthorizedKey(line));
    const hostCheck: HostCheck = {};
    const client = new Client();
    const config: ConnectConfig = {
      sock: socket,
      username: opts.login,
      privateKey: privateKeyToOpenSSH(opts.credentials.key.privateKey),
      certificate: opts.credentials.sshCertificate,
      readyTimeout: timeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      ident: SSH_IDENT,
      // Only an ed25519 host certificate from the cluster's host CA: a node without one is not a
      // node we trust. ssh2 types each list as a union of names; ours are checked strings.
      algorithms: clientAlgorithms() as Algorithms,
      hostVerifier: (key: Buffer) => {
        hostCheck.reason = checkHostCertificate(key, hostCAs, opts.node, opts.clock());
        if (hostCheck.reason) log.warn('node host certificate refused', { node: opts.node, reason: hostCheck.reason });
        return hostCheck.reason === undefined;
      },
    };
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error & { level?: string }) => {
        client.off('ready', onReady);
        socket.destroy();
        reject(handshakeError(err, opts.node, opts.login, hostCheck));
      };
      const onReady = () => {
        client.off('error', onError);
        resolve();
      };
      client.once('ready', onReady);
      client.once('error', onError);
      // readReply left the socket paused with the node's first SSH bytes (often its whole ident
      // line, when it arrived with the proxy's reply) unread in the socket's buffer. ssh2 attaches
      // its 'data' listener only after its crypto init resolves and then resumes the socket itself:
      // resuming it here made it flow with no listener yet, and those bytes were dropped (seen as
      // "Invalid header: expected newline" when the next bytes were the binary KEXINIT).
      client.connect(config);
    });
    const conn = new SshConnection(client, opts.node, opts.login, opts.sendEnv);
    client.on('error', (err) => log.warn('ssh connection error', { node: opts.node, error: err.message }));
    log.info('ssh connected', { node: opts.node, login: opts.login });
    return conn;
  }

  /** Runs a command; with `pty` the remote side allocates a terminal (stderr then merges into stdout). */
  exec(command: string, opts: { pty?: PtyOptions; env?: Record<string, string> } = {}): Promise<SshChannel> {
    const execOpts: Record<string, unknown> = {};
    if (opts.pty) {
      execOpts.pty = { term: opts.pty.term, cols: opts.pty.cols, rows: opts.pty.rows };
      execOpts.channelWindow = PTY_CHANNEL_WINDOW;
    }
    const env = this.envFor(opts.env);
    if (env) execOpts.env = env;
    return this.openChannel((cb) => this.client.exec(command, execOpts, cb), opts.pty !== undefined);
  }

  /** A login shell: interactive on a pty, or without one (commands read from stdin) when `pty` is omitted. */
  shell(pty?: PtyOptions, opts: { env?: Record<string, string> } = {}): Promise<SshChannel> {
    const window = pty ? { term: pty.term, cols: pty.cols, rows: pty.rows } : false;
    const env = this.envFor(opts.env);
    const shellOpts: ShellOptions = pty ? { channelWindow: PTY_CHANNEL_WINDOW } : {};
    if (env) shellOpts.env = env;
    return this.openChannel((cb) => this.client.shell(window, shellOpts, cb), pty !== undefined);
  }

  close(): void {
    if (!this.closed) this.client.end();
  }

  /**
   * The connection's variables, then the channel's own. Sent without want-reply, as OpenSSH
   * does: a node that refuses one still opens the session.
   */
  private envFor(channelEnv: Record<string, string> | undefined): Record<string, string> | undefined {
    const env = { ...this.sendEnv, ...channelEnv };
    return Object.keys(env).length > 0 ? env : undefined;
  }

  private openChannel(
    start: (cb: (err: Error | undefined, ch: ClientChannel) => void) => void,
    hasPty: boolean,
  ): Promise<SshChannel> {
    if (this.closed)
      return Promise.reject(
        new GatehouseError(ErrorCode.NODE_UNREACHABLE, `the connection to node "${this.node}" is closed`),
      );
    return new Promise((resolve, reject) => {
      try {
        start((err, ch) => {
          if (err) reject(channelError(err, this.node));
          else resolve(new SshChannel(ch, hasPty));
        });
      } catch (e) {
        // ssh2 throws synchronously when the connection went away under us.
        reject(
          new GatehouseError(
            ErrorCode.NODE_UNREACHABLE,
            `the connection to node "${this.node}" is closed: ${(e as Error).message}`,
          ),
        );
      }
    });
  }
}

/** Undefined when the blob is a valid host certificate for `node` from a trusted host CA, else why not. */
export function checkHostCertificate(blob: Buffer, hostCAs: Buffer[], node: string, now: Date): string | undefined {
  let cert;
  try {
    cert = parseCertificate(blob);
  } catch (e) {
    return `it presented no host certificate (${(e as Error).message})`;
  }
  const r = verifyCertificate(cert, { trustedCAs: hostCAs, type: 'host', principal: node, now });
  if (r.ok) return undefined;
  if (r.failure === 'untrusted-ca') {
    return `its host certificate is signed by ${fingerprintSha256(cert.signatureKey)}, which is not this cluster's host CA`;
  }
  return r.reason;
}

/** ssh2 handshake errors in the user's terms. */
function handshakeError(err: Error & { level?: string }, node: string, login: string, host: HostCheck): GatehouseError {
  if (err instanceof GatehouseError) return err;
  if (host.reason) {
    return new GatehouseError(ErrorCode.CERT_INVALID, `node "${node}" is not trusted: ${host.reason}`, { node });
  }
  if (err.level === 'client-authentication') {
    return new GatehouseError(
      ErrorCode.ACCESS_DENIED,
      `node "${node}" did not accept your certificate for login "${login}"; check that "${login}" is one of your logins ("gate status"), or log in again`,
      { node, login },
    );
  }
  if (/no matching host key/i.test(err.message)) {
    return new GatehouseError(
      ErrorCode.CERT_INVALID,
      `node "${node}" does not present a host certificate, so it cannot be trusted`,
      { node },
    );
  }
  if (err.level === 'client-timeout') {
    return new GatehouseError(ErrorCode.NODE_UNREACHABLE, `node "${node}" did not complete the SSH handshake in time`, {
      node,
    });
  }
  return new GatehouseError(ErrorCode.NODE_UNREACHABLE, `ssh to node "${node}" failed: ${err.message}`, { node });
}

/** The reason a node gives when access needs a trusted device and the certificate has no device fields. */
export const UNAUTHORIZED_DEVICE = 'unauthorized device';

/** A refused session channel; reason 1 is the authorizer saying no, in its own words. */
export function channelError(err: Error & { reason?: number | string }, node: string): GatehouseError {
  const description = err.message.replace(/^\(SSH\) Channel open failure: ?/, '');
  if (err.reason === OPEN_ADMINISTRATIVELY_PROHIBITED) {
    // The node's device trust refusal gets its own code so clients can say how to fix it; the
    // words stay the node's.
    const code = description === UNAUTHORIZED_DEVICE ? ErrorCode.DEVICE_UNTRUSTED : ErrorCode.ACCESS_DENIED;
    return new GatehouseError(code, `ssh: rejected: administratively prohibited (${description})`, {
      node,
    });
  }
  return new GatehouseError(
    ErrorCode.NODE_UNREACHABLE,
    `ssh: node "${node}" refused to open a session: ${description || 'no reason given'}`,
    { node },
  );
}
