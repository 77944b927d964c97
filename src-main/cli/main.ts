// `gate` command dispatch: finds the command, runs it, and turns every failure into
// "ERROR: <message>" with the exit code of its error code (exitCodeFor), so scripts can branch.
import { ErrorCode, GatehouseError, exitCodeFor, isGatehouseError } from '../../src-shared/errors.ts';
import { createCore, type Command } from './context.ts';
import { note, print, type CliIo } from './io.ts';
import { clientVersion } from '../core/version.ts';

interface CommandEntry {
  name: string;
  summary: string;
  /** Commands load on demand: the network stacks cost a few hundred ms we skip for `status`. */
  load: () => Promise<Command>;
}

export const COMMANDS: CommandEntry[] = [
  {
    name: 'login',
    summary: 'log in to a cluster and get short-lived certificates',
    load: async () => (await import('./commands/login.ts')).loginCommand,
  },
  {
    name: 'status',
    summary: 'show who you are logged in as, your roles and logins, and until when',
    load: async () => (await import('./commands/status.ts')).statusCommand,
  },
  {
    name: 'ls',
    summary: 'list the nodes you can reach',
    load: async () => (await import('./commands/ls.ts')).lsCommand,
  },
  {
    name: 'ssh',
    summary: 'open a shell or run a command on a node',
    load: async () => (await import('./commands/ssh.ts')).sshCommand,
  },
  {
    name: 'proxy',
    summary: 'reach a node with OpenSSH: stdin/stdout as ProxyCommand, or a local port with --port',
    load: async () => (await import('./commands/proxy.ts')).proxyCommand,
  },
  {
    name: 'logout',
    summary: 'remove the stored keys and certificates of the current login',
    load: async () => (await import('./commands/status.ts')).logoutCommand,
  },
  {
    name: 'set-password',
    summary: 'set your password with the one-time token your administrator gave you',
    load: async () => (await import('./commands/login.ts')).setPasswordCommand,
  },
  {
    name: 'device',
    summary: 'device trust: collected device data, asset tag, TPM attestation key',
    load: async () => (await import('./commands/device.ts')).deviceCommand,
  },
  {
    name: 'version',
    summary: 'print the version',
    load: async () => (await import('./commands/status.ts')).versionCommand,
  },
];

export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: gate <command> [options]

Gatehouse user CLI: log in to a cluster and reach its nodes.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "gate <command> --help" for a command's options.
Environment: GATEHOUSE_HOME (default ~/.gatehouse) holds logins and pinned proxy CAs.
`;
}

/** Runs one `gate` invocation; resolves to the exit code. Never exits the process itself. */
export async function runGate(argv: string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === args[0]) : undefined;
    print(io, (topic ? (await topic.load()).usage : mainUsage()).trimEnd());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    print(io, `gate ${clientVersion()}`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  try {
    if (!entry)
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `unknown command "${name}"\n\n${mainUsage().trimEnd()}`);
    const cmd = await entry.load();
    return await cmd.run({ args, env, io, core: createCore(env) });
  } catch (e) {
    const err = isGatehouseError(e) ? e : undefined;
    note(io, `ERROR: ${err?.message ?? (e as Error)?.message ?? String(e)}`);
    // What to do about it, on its own line so the ERROR line stays the error's own words.
    const hint = err?.details?.hint;
    if (typeof hint === 'string' && hint) note(io, hint);
    if (!err && env.GATEHOUSE_DEBUG) note(io, (e as Error)?.stack ?? '');
    return err ? exitCodeFor(err.code) : 1;
  }
}
