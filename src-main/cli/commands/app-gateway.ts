// `gate proxy app NAME [-p PORT]`: a local gateway for one app, until Ctrl-C. A browser or curl
// talks plain HTTP to 127.0.0.1:PORT (a TCP app's client its own protocol); each connection is
// carried to the proxy over TLS with a route certificate for NAME (issued when the gateway starts
// — or the one `gate app login` stored, while fresh — reused for every connection and renewed
// in the background). A refused HTTP connection gets the denial page; every refusal, and for a
// TCP app that is the only way to see it, is printed here with its code.
import { ErrorCode, type GatehouseError } from '../../../src-shared/errors.ts';
import { AppLogins, appLoginRequest } from '../../core/app-logins.ts';
import { requirementLines } from '../../core/device-trust-status.ts';
import type { Profile } from '../../core/profiles.ts';
import type { GatewayInfo } from '../../gateways/gateway.ts';
import { builtinRouteProtocols, GatewayService } from '../../gateways/gateway-service.ts';
import type { GatewayRoute } from '../../gateways/route.ts';
import type { CommandContext } from '../context.ts';
import { note, print } from '../io.ts';
import { requireApp, type KnownApp } from './apps.ts';
import { loginAccess, reloaded } from './gateway-access.ts';
import { profileTrust } from './status.ts';

export interface ProxyAppOptions {
  port?: number;
}

/** The line that says the gateway is up: a URL for an HTTP app, an address for a TCP app. */
export function proxyingLine(
  app: Pick<KnownApp, 'name' | 'kind'>,
  info: Pick<GatewayInfo, 'localAddress' | 'localPort'>,
) {
  const address = `${info.localAddress}:${info.localPort}`;
  return `Proxying ${app.kind === 'http' ? `http://${address}` : address} → ${app.name} (Ctrl-C to stop)`;
}

/** What `gate proxy app` prints for a refused connection: the reason, its code, and the remedy. */
export function refusalLines(ctx: CommandContext, profile: Profile, e: GatehouseError): string[] {
  const lines = [`gate proxy app: ${e.message} [${e.code}]`];
  if (e.code === ErrorCode.DEVICE_UNTRUSTED) {
    // The same next step `gate ssh` gives for a node that wants a trusted device.
    const trust = profileTrust(ctx.core, reloaded(ctx, profile));
    if (trust.state !== 'trusted') lines.push(...requirementLines({ ...trust, required: true }));
  } else if (e.code === ErrorCode.CERT_EXPIRED || e.code === ErrorCode.NOT_LOGGED_IN) {
    lines.push('Log in again with "gate login"; this gateway picks the new login up without a restart.');
  }
  return lines;
}

/** `gate proxy app NAME [-p PORT]`: prints the local URL (or address), runs until Ctrl-C. */
export async function proxyApp(ctx: CommandContext, name: string, opts: ProxyAppOptions): Promise<number> {
  const { core } = ctx;
  const profile = core.requireValidProfile();
  const cluster = await core.cluster(profile.proxy);
  const app = await requireApp(cluster, profile, name).finally(() => cluster.close());
  // A fresh certificate from `gate app login` saves the first issue call.
  const access = core.proxyAccess(profile);
  const stored = new AppLogins(core.profiles).load(profile, access.credentials.key, name, core.clock());
  if (stored) {
    core.routeCertificates.remember(
      profile,
      access.credentials.tlsCertificatePem,
      appLoginRequest(name),
      stored.certificate,
    );
  }
  // Issued (or taken from the cache) before listening: a refusal to issue one is this command's
  // error and exit code, not every connection's; the gateway's connections reuse it.
  await access.routeCertificate(appLoginRequest(name));
  const route: GatewayRoute = { kind: 'app', name, protocol: app.kind };
  const gateways = new GatewayService({ protocols: builtinRouteProtocols() });
  const info = await gateways.create({
    route,
    ...(opts.port !== undefined ? { localPort: opts.port } : {}),
    access: loginAccess(ctx, profile),
  });
  const stopWatching = gateways
    .get(info.id)
    .onRefused((e) => refusalLines(ctx, profile, e).forEach((line) => note(ctx.io, line)));
  print(ctx.io, proxyingLine(app, info));
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  stopWatching();
  await gateways.closeAll();
  note(ctx.io, `gate proxy app: stopped (${signal})`);
  return 0;
}
