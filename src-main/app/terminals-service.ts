// Terminal tabs: interactive shells on nodes through the proxy, one SSH connection each, and local
// programs (a gateway's database client) in a PTY. Ids are
// `t1`, `t2`, … per app run. A terminal stays (with its buffered output) after it ended until the
// renderer closes it, so a tab that attaches late still sees the last lines and the exit.
import { homedir } from 'node:os';
import type { GatehouseClient } from '../core/gatehouse-client.ts';
import { connectSsh } from '../gateways/ssh/ssh-connect.ts';
import type { RequestResults } from '../ipc/contract.ts';
import type { TerminalAttachment, TerminalOutputListener } from '../ipc/dispatcher.ts';
import type { AppEvents } from './events.ts';
import type { AppLogger } from './logger.ts';
import { canonicalProxy, type Sessions } from './sessions.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { spawnLocalPty, type SpawnLocalPty } from './local-pty.ts';
import { lockConcernsUserOrDevice, type TerminalLock } from './terminal-lock.ts';
import { TerminalSession, unknownTerminal, type OpenedShell, type TerminalSessionOptions } from './terminal-session.ts';

export const TERMINAL_TYPE = 'xterm-256color';
/** More tabs than anyone uses; a runaway renderer must not open connections without end. */
export const MAX_TERMINALS = 64;

export interface OpenTerminalInput {
  proxy: string;
  node: string;
  login: string;
  cols: number;
  rows: number;
}

export interface OpenLocalTerminalInput {
  proxy: string;
  /** Absolute path of the program (resolved by main, never sent by the renderer). */
  file: string;
  args: string[];
  cols: number;
  rows: number;
}

export class TerminalsService {
  private readonly terminals = new Map<string, { session: TerminalSession; proxy: string }>();
  private nextId = 1;

  constructor(
    private readonly deps: {
      core: GatehouseClient;
      sessions: Sessions;
      events: AppEvents;
      log: AppLogger;
      bufferLimit?: number;
      /** Starts local programs in a PTY (default node-pty); tests pass their own. */
      spawnPty?: SpawnLocalPty;
      /** Working directory of local programs (default: the user's home). */
      localCwd?: string;
    },
  ) {}

  /** Checks the session now (NOT_LOGGED_IN / CERT_EXPIRED are answered here); connects in the background. */
  open(input: OpenTerminalInput): RequestResults['terminals.open'] {
    const proxy = canonicalProxy(input.proxy);
    const profile = this.deps.sessions.require(proxy);
    const { core, sessions, log } = this.deps;
    const terminalId = this.add(
      proxy,
      (cols, rows) =>
        sessions.guard(proxy, async (): Promise<OpenedShell> => {
          const connection = await connectSsh(core.proxyAccess(profile), input.node, input.login);
          try {
            const channel = await connection.shell({ term: TERMINAL_TYPE, cols, rows });
            return { connection, channel };
          } catch (e) {
            connection.close();
            throw e;
          }
        }),
      input,
    );
    log.info('terminal opening', { terminal: terminalId, proxy, node: input.node, login: input.login });
    return { terminalId };
  }

  /**
   * A terminal running a program on this computer (a gateway's database client), tied to the
   * cluster whose gateway it uses so that logging out ends it with the gateway.
   */
  openLocal(input: OpenLocalTerminalInput): RequestResults['terminals.open'] {
    const proxy = canonicalProxy(input.proxy);
    this.deps.sessions.require(proxy);
    const spawn = this.deps.spawnPty ?? spawnLocalPty;
    const terminalId = this.add(
      proxy,
      async (cols, rows) =>
        spawn({ file: input.file, args: input.args, cols, rows, cwd: this.deps.localCwd ?? homedir() }),
      input,
    );
    this.deps.log.info('local terminal opening', { terminal: terminalId, proxy, program: input.file });
    return { terminalId };
  }

  private add(proxy: string, connect: TerminalSessionOptions['connect'], size: { cols: number; rows: number }): string {
    if (this.terminals.size >= MAX_TERMINALS) {
      throw new GatehouseError(ErrorCode.RATE_LIMITED, `at most ${MAX_TERMINALS} terminals can be open; close some`);
    }
    const id = `t${this.nextId++}`;
    const session = new TerminalSession({
      id,
      cols: size.cols,
      rows: size.rows,
      log: this.deps.log,
      ...(this.deps.bufferLimit ? { bufferLimit: this.deps.bufferLimit } : {}),
      connect,
      onExit: (exit) => {
        this.deps.events.emit('terminals.exit', exit);
        const lock = exit.error?.details?.['lock'] as TerminalLock | undefined;
        // A lock on the user or this device changes what every tab and the device screen can do.
        if (lock && lockConcernsUserOrDevice(lock)) this.deps.events.emit('device.changed', { proxy, reason: 'lock' });
      },
    });
    this.terminals.set(id, { session, proxy });
    session.start();
    return id;
  }

  resize(terminalId: string, cols: number, rows: number): null {
    this.get(terminalId).resize(cols, rows);
    return null;
  }

  /** Ends the remote session and forgets the terminal; `terminals.exit` follows. */
  close(terminalId: string): null {
    const session = this.get(terminalId);
    this.terminals.delete(terminalId);
    session.close();
    return null;
  }

  attach(terminalId: string, onData: TerminalOutputListener): TerminalAttachment {
    return this.get(terminalId).attach(onData);
  }

  /** Ends every terminal of a cluster (on logout or removal). */
  closeAllFor(proxy: string): void {
    for (const [id, t] of this.terminals) if (t.proxy === proxy) this.close(id);
  }

  /** Ends every terminal and waits (bounded by each terminal's grace period) until they report it. */
  async closeAll(): Promise<void> {
    const all = [...this.terminals.values()].map((t) => t.session);
    this.terminals.clear();
    for (const s of all) s.close();
    await Promise.all(all.map((s) => s.ended));
  }

  private get(terminalId: string): TerminalSession {
    const t = this.terminals.get(terminalId);
    if (!t) throw unknownTerminal(terminalId);
    return t.session;
  }
}
