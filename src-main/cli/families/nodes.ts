// `gate ls`, `gate ssh`, `gate proxy ssh`: reaching nodes. Declared here (options, help),
// implemented in commands/ls.ts, commands/ssh.ts and commands/proxy.ts.
import { Option, type Command } from 'commander';
import { gateAction, type ContextFactory } from '../context.ts';
import type { SshCommandLine } from '../commands/ssh.ts';

const SSH_DESCRIPTION = `Connects to NODE through the proxy with your certificates. Without COMMAND, opens an
interactive shell (on a terminal). With COMMAND, runs it and exits with its exit status.
As with ssh, options may also follow NODE; a "--" ends them and is not sent.`;

const PROXY_DESCRIPTION = `Relays stdin/stdout to NODE's SSH server through the proxy, authenticated with your
Gatehouse login. Meant as an OpenSSH ProxyCommand:

  ssh -o ProxyCommand="gate proxy ssh %h" -i ~/.gatehouse/profiles/.../key \\
      -o CertificateFile=~/.gatehouse/profiles/.../key-cert.pub LOGIN@NODE

With --port N, listens on 127.0.0.1:N instead (0: any free port; the address is printed)
and relays every connection to NODE until stopped with Ctrl-C:

  ssh -p N -o HostKeyAlias=NODE -i .../key -o CertificateFile=.../key-cert.pub LOGIN@127.0.0.1`;

/**
 * The `gate ssh` command line, split as OpenSSH's ssh does: options may come before and right
 * after the node; the first `--` ends them and is dropped (never sent as part of the command),
 * and the first other non-option after the node starts the command. Commander parses up to the
 * node (passThroughOptions); the options right after it are parsed here with the same
 * declarations, so both places accept exactly the same flags.
 */
export function sshCommandLine(cmd: Command): SshCommandLine {
  const [target, rest] = cmd.processedArgs as [string | undefined, string[]];
  if (target === undefined) cmd.error('name a node: gate ssh [USER@]NODE [COMMAND...]');
  const { operands, unknown } = cmd.parseOptions(rest);
  if (unknown.length > 0) {
    const [first] = unknown as [string];
    if (first === '-h' || first === '--help') cmd.help();
    cmd.error(`unknown option '${first}'`, { code: 'commander.unknownOption' });
  }
  const opts = cmd.opts<{ login?: string; tty?: boolean }>();
  return {
    target,
    command: operands,
    ...(opts.login !== undefined ? { login: opts.login } : {}),
    ...(opts.tty ? { tty: true } : {}),
  };
}

export function registerNodeCommands(program: Command, context: ContextFactory): void {
  const ls = program
    .command('ls')
    .summary('list the nodes you can reach')
    .description('Lists the nodes your roles let you see: name, address and labels.')
    .addOption(new Option('--format <FORMAT>', 'output format').choices(['text', 'json']).default('text'));
  gateAction(ls, context, async () => {
    const { ls: run } = await import('../commands/ls.ts');
    return (ctx, cmd) => run(ctx, cmd.opts<{ format: 'text' | 'json' }>());
  });

  const ssh = program
    .command('ssh')
    .summary('open a shell or run a command on a node')
    .description(SSH_DESCRIPTION)
    .usage('[-l LOGIN] [-t] [USER@]NODE [--] [COMMAND...]')
    .option(
      '-l, --login <LOGIN>',
      'the login (OS user) on the node; also USER@NODE. Default: your local user name when allowed, else your only login',
    )
    .option('-t, --tty', 'allocate a terminal for COMMAND too')
    .argument('[USER@NODE]', 'the node, optionally with the login')
    .argument('[COMMAND...]', 'the command to run instead of a shell')
    .passThroughOptions();
  gateAction(ssh, context, async () => {
    const { ssh: run } = await import('../commands/ssh.ts');
    return (ctx, cmd) => run(ctx, sshCommandLine(cmd));
  });

  const proxy = program
    .command('proxy')
    .summary('reach a node with OpenSSH: stdin/stdout as ProxyCommand, or a local port with --port');
  const proxySsh = proxy
    .command('ssh')
    .summary("relay stdin/stdout to NODE's SSH server")
    .description(PROXY_DESCRIPTION)
    .argument('<NODE>', 'the node (a ":PORT" suffix, as OpenSSH passes with %h:%p, is ignored)')
    .option('--port <N>', 'listen on 127.0.0.1:N instead (0: any free port, printed on stdout)');
  gateAction(proxySsh, context, async () => {
    const { proxySsh: run } = await import('../commands/proxy.ts');
    const { parseLocalPort } = await import('../commands/proxy-listen.ts');
    return (ctx, cmd) => {
      const port = (cmd.opts() as { port?: string }).port;
      return run(ctx, cmd.processedArgs[0] as string, port === undefined ? undefined : parseLocalPort(port));
    };
  });
}
