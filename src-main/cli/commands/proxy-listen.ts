// `gate proxy ssh NODE --port N`: a local SSH gateway. Stock OpenSSH (or any SSH client) connects
// to 127.0.0.1:N and reaches NODE through the proxy, each connection a fresh tunnel with the
// login's current certificate. Runs until SIGINT/SIGTERM, then closes the listener and every
// live connection.
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { builtinRouteProtocols, GatewayService, profileRouteAccess } from '../../gateways/gateway-service.ts';
import type { CommandContext } from '../context.ts';
import { note, print } from '../io.ts';

/** "0" lets the OS pick a free port (printed on stdout); otherwise 1-65535. */
export function parseLocalPort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `gate proxy: --port must be 0-65535, not "${text}"`);
  }
  return port;
}

export async function serveSshGateway(ctx: CommandContext, node: string, localPort: number): Promise<number> {
  const { core } = ctx;
  const profile = core.requireValidProfile();
  const gateways = new GatewayService({ protocols: builtinRouteProtocols() });
  const info = await gateways.create({
    route: { kind: 'ssh', name: node },
    localPort,
    // Re-read per connection: a `gate login` while this runs is picked up without a restart.
    access: () => profileRouteAccess(core.proxyAccess(core.profiles.load(profile.proxy, profile.user) ?? profile)),
  });
  const refusals = gateways.get(info.id).onRefused((e) => note(ctx.io, `gate proxy: ${e.message} [${e.code}]`));
  // stdout carries only the address, so a script can read it; the how-to goes to stderr.
  print(ctx.io, `${info.localAddress}:${info.localPort}`);
  note(
    ctx.io,
    `Listening for SSH to "${node}" on ${info.localAddress}:${info.localPort}; connect with\n` +
      `  ssh -p ${info.localPort} -o HostKeyAlias=${node} LOGIN@${info.localAddress}\n` +
      `Stop with Ctrl-C.`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  refusals();
  await gateways.closeAll();
  note(ctx.io, `gate proxy: stopped (${signal})`);
  return 0;
}
