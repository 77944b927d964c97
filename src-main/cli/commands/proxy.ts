// `gate proxy ssh NODE`: the byte stream to NODE's SSH port on stdin/stdout, for the stock
// OpenSSH client's ProxyCommand. With it, `ssh` reaches Gatehouse nodes through the proxy
// using the key and certificate `gate login` stored:
//   ssh -o ProxyCommand="gate proxy ssh %h" -i KEY -o CertificateFile=KEY-cert.pub LOGIN@NODE
import type { CommandContext } from '../context.ts';

/** `gate proxy ssh NODE`: relays until either side closes. */
export async function proxySsh(ctx: CommandContext, node: string): Promise<number> {
  const profile = ctx.core.requireValidProfile();
  const socket = await ctx.core.dialNode(profile, node.replace(/:\d+$/, ''));
  await new Promise<void>((resolve) => {
    ctx.io.stdin.pipe(socket);
    socket.pipe(ctx.io.stdout);
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
    ctx.io.stdin.once('end', () => socket.end());
  });
  return 0;
}
