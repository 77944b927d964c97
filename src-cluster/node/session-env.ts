// The environment a session's process starts with. Built from scratch — never inherited from
// the node process, whose environment may hold cluster secrets.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { OsUser } from './os-user.ts';
import { defaultPath } from './os-user.ts';

const MAX_ENV_VARS = 64;
const MAX_VALUE_LENGTH = 4096;

/** ssh_service.accept_env's default: the locale only, as Debian's sshd_config `AcceptEnv LANG LC_*`. */
export const DEFAULT_ACCEPT_ENV: readonly string[] = ['LANG', 'LC_*'];
/** An accept_env entry: a variable name, or a name prefix followed by one `*` at the end. */
export const ACCEPT_ENV_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;
/** Entries an accept_env list may hold: a list of names, not an inventory. */
export const MAX_ACCEPT_ENV_ENTRIES = 64;

/** Why an accept_env entry is unusable, or undefined. */
export function acceptEnvProblem(pattern: string): string | undefined {
  if (ACCEPT_ENV_PATTERN.test(pattern)) return undefined;
  // A bare "*" would let a client set LD_PRELOAD, BASH_ENV and the like for the user's shell.
  if (pattern === '*')
    return '"*" alone would accept every variable (LD_PRELOAD, BASH_ENV, ...); list names or prefixes';
  return `"${pattern}" is not a variable name or a name prefix ending in one "*" (e.g. LANG, LC_*)`;
}

/**
 * Which client-sent variables a session may carry, like sshd's AcceptEnv: exact names, or
 * prefixes written `LC_*`. Only a trailing `*`: sshd's `?` and inner `*` buy little and make an
 * allow list harder to read at a glance. The empty list refuses everything.
 */
export class EnvAllowList {
  readonly #names = new Set<string>();
  readonly #prefixes: string[] = [];

  constructor(patterns: readonly string[] = DEFAULT_ACCEPT_ENV) {
    if (patterns.length > MAX_ACCEPT_ENV_ENTRIES) {
      throw new GatehouseError(
        ErrorCode.CONFIG,
        `ssh_service.accept_env has ${patterns.length} entries; at most ${MAX_ACCEPT_ENV_ENTRIES} allowed`,
      );
    }
    for (const p of patterns) {
      const problem = acceptEnvProblem(p);
      if (problem) throw new GatehouseError(ErrorCode.CONFIG, `ssh_service.accept_env: ${problem}`);
      if (p.endsWith('*')) this.#prefixes.push(p.slice(0, -1));
      else this.#names.add(p);
    }
  }

  allows(name: string, value: string): boolean {
    if (value.length > MAX_VALUE_LENGTH || value.includes('\0') || name === '') return false;
    return this.#names.has(name) || this.#prefixes.some((prefix) => name.startsWith(prefix));
  }
}

/** Collects accepted client variables; false when the variable is refused. */
export class ClientEnv {
  readonly vars = new Map<string, string>();

  constructor(private readonly allowList: EnvAllowList = new EnvAllowList()) {}

  offer(name: string, value: string): boolean {
    if (!this.allowList.allows(name, value)) return false;
    if (!this.vars.has(name) && this.vars.size >= MAX_ENV_VARS) return false;
    this.vars.set(name, value);
    return true;
  }
}

export interface ConnectionEndpoints {
  clientAddress: string;
  clientPort: number;
  serverAddress: string;
  serverPort: number;
}

export interface SessionEnvInput {
  user: OsUser;
  shell: string;
  clientEnv: ClientEnv;
  endpoints: ConnectionEndpoints;
  /** The pty's terminal type when a pty was requested. */
  term?: string;
  /** Set when a certificate's force-command replaced what the client asked for. */
  originalCommand?: string;
  /** The Gatehouse user (certificate key id), for scripts and prompts. */
  gatehouseUser: string;
}

export function buildSessionEnv(input: SessionEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of input.clientEnv.vars) env[k] = v;
  // Set after the client's variables, so that nothing the client sends can override them.
  if (input.term) env.TERM = input.term;
  else delete env.TERM;
  env.HOME = input.user.home;
  env.USER = input.user.name;
  env.LOGNAME = input.user.name;
  env.SHELL = input.shell;
  env.PATH = defaultPath(input.user.uid);
  const e = input.endpoints;
  env.SSH_CLIENT = `${e.clientAddress} ${e.clientPort} ${e.serverPort}`;
  env.SSH_CONNECTION = `${e.clientAddress} ${e.clientPort} ${e.serverAddress} ${e.serverPort}`;
  env.GATEHOUSE_USER = input.gatehouseUser;
  if (input.originalCommand !== undefined) env.SSH_ORIGINAL_COMMAND = input.originalCommand;
  return env;
}
