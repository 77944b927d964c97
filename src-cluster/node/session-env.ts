// The environment a session's process starts with. Built from scratch — never inherited from
// the node process, whose environment may hold cluster secrets.
import type { OsUser } from './os-user.ts';
import { defaultPath } from './os-user.ts';

const MAX_ENV_VARS = 64;
const MAX_VALUE_LENGTH = 4096;

/** Client-sent variables a session may carry: locale and terminal looks only (as sshd's AcceptEnv). */
export function isAcceptedEnvVar(name: string, value: string): boolean {
  if (value.length > MAX_VALUE_LENGTH || value.includes('\0')) return false;
  return name === 'LANG' || name === 'LANGUAGE' || name === 'TERM' || name === 'COLORTERM' || /^LC_[A-Z]+$/.test(name);
}

/** Collects accepted client variables; false when the variable is refused. */
export class ClientEnv {
  readonly vars = new Map<string, string>();

  offer(name: string, value: string): boolean {
    if (!isAcceptedEnvVar(name, value)) return false;
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
