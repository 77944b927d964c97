// `gate proxy ssh NODE`: the byte stream to NODE's SSH port on stdin/stdout, for the stock
// OpenSSH client's ProxyCommand. With it, `ssh` reaches Gatehouse nodes through the proxy
// using the key and certificate `gate login` stored:
//   ssh -o ProxyCommand="gate proxy ssh %h" -i KEY -o CertificateFile=KEY-cert.pub LOGIN@NODE
// With --port it is a local gateway instead (proxy-listen.ts).
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { dialNode } from '../../gateways/ssh/ssh-connect.ts';
import { parseLocalPort, serveSshGateway } from './proxy-listen.ts';
import { parseCommandArgs, showHelp, type Command, type CommandContext } from '../context.ts';

export const proxyCommand: Command = {
  name: 'proxy',
  usage: `Usage: gate proxy ssh NODE [--port N]

Relays stdin/stdout to NODE's SSH server through the proxy, authenticated with your
Gatehouse login. Meant as an OpenSSH ProxyCommand:

  ssh -o ProxyCommand="gate proxy ssh %h" -i ~/.gatehouse/profiles/.../key \\
      -o CertificateFile=~/.gatehouse/profiles/.../key-cert.pub LOGIN@NODE

With --port N, listens on 127.0.0.1:N instead (0: any free port; the address is printed)
and relays every connection to NODE until stopped with Ctrl-C:

  ssh -p N -o HostKeyAlias=NODE -i .../key -o CertificateFile=.../key-cert.pub LOGIN@127.0.0.1
`,
  async run(ctx: CommandContext) {
    const { values, positionals } = parseCommandArgs(this, ctx.args, { port: { type: 'string' } }, true);
    if (values.help) return showHelp(ctx, this);
    const [kind, node] = positionals;
    if (kind !== 'ssh' || !node)
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `gate proxy: expected "ssh NODE"\n\n${this.usage.trimEnd()}`);
    if (values.port !== undefined) return serveSshGateway(ctx, node, parseLocalPort(values.port));
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
