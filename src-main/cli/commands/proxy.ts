// `gate proxy ssh NODE`: the byte stream to NODE's SSH port on stdin/stdout, for the stock
// OpenSSH client's ProxyCommand. With it, `ssh` reaches Gatehouse nodes through the proxy
// using the key and certificate `gate login` stored:
//   ssh -o ProxyCommand="gate proxy ssh %h" -i KEY -o CertificateFile=KEY-cert.pub LOGIN@NODE
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { dialNode } from '../../gateways/ssh/ssh-connect.ts';
import { parseCommandArgs, showHelp, type Command, type CommandContext } from '../context.ts';

export const proxyCommand: Command = {
  name: 'proxy',
  usage: `Usage: gate proxy ssh NODE

Relays stdin/stdout to NODE's SSH server through the proxy, authenticated with your
Gatehouse login. Meant as an OpenSSH ProxyCommand:

  ssh -o ProxyCommand="gate proxy ssh %h" -i ~/.gatehouse/profiles/.../key \\
      -o CertificateFile=~/.gatehouse/profiles/.../key-cert.pub LOGIN@NODE
`,
  async run(ctx: CommandContext) {
    const { values, positionals } = parseCommandArgs(this, ctx.args, {}, true);
    if (values.help) return showHelp(ctx, this);
    const [kind, node] = positionals;
    if (kind !== 'ssh' || !node)
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `gate proxy: expected "ssh NODE"\n\n${this.usage.trimEnd()}`);
    const profile = ctx.core.requireValidProfile();
    const socket = await dialNode(ctx.core.proxyAccess(profile), node.replace(/:\d+$/, ''));
    await new Promise<void>((resolve) => {
      ctx.io.stdin.pipe(socket);
      socket.pipe(ctx.io.stdout);
      socket.once('close', () => resolve());
      socket.once('error', () => resolve());
      ctx.io.stdin.once('end', () => socket.end());
    });
    return 0;
  },
};
