// `gate proxy ssh NODE`: the byte stream to NODE's SSH port on stdin/stdout, for the stock
// OpenSSH client's ProxyCommand. With it, `ssh` reaches Gatehouse nodes through the proxy
// using the key and certificate `gate login` stored:
//   ssh -o ProxyCommand="gate proxy ssh %h" -i KEY -o CertificateFile=KEY-cert.pub LOGIN@NODE
// With --port it is a local gateway instead (proxy-listen.ts).
import { dialNode } from '../../gateways/ssh/ssh-connect.ts';
import type { CommandContext } from '../context.ts';
import { serveSshGateway } from './proxy-listen.ts';

/** `gate proxy ssh NODE`: relays until either side closes. */
export async function proxySsh(ctx: CommandContext, node: string, localPort?: number): Promise<number> {
  if (localPort !== undefined) return serveSshGateway(ctx, node, localPort);
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
}
