// `gate proxy db NAME --tunnel` and `gate db connect NAME`: a local database gateway for the
// current login. Every connection to 127.0.0.1:PORT is answered by the protocol's front (which
// learns the db user / db name), then tunnelled to the proxy with a route certificate for the
// database (issued once, renewed at 2/3 of its life; a stored `gate db login` one is used while
// it is fresh). `proxy db` runs until Ctrl-C; `db connect` runs the local psql / mariadb through
// it and exits with the client's exit code.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { DbLogins, dbLoginRequest } from '../../core/db-logins.ts';
import { requirementLines } from '../../core/device-trust-status.ts';
import type { Profile } from '../../core/profiles.ts';
import {
  dbClientArgs,
  displayedDbClientCommand,
  findLocalDbClient,
  formatCommand,
  type DbClientCommand,
  type DbClientTarget,
} from '../../gateways/db/client-command.ts';
import type { GatewayInfo } from '../../gateways/gateway.ts';
import { builtinRouteProtocols, GatewayService } from '../../gateways/gateway-service.ts';
import type { DbProtocol, GatewayRoute } from '../../gateways/route.ts';
import type { CommandContext } from '../context.ts';
import { note, print } from '../io.ts';
import { chooseDbUser, requireDatabase, type DbTargetOptions } from './db.ts';
import { loginAccess, reloaded } from './gateway-access.ts';
import { profileTrust } from './status.ts';

export interface ProxyDbOptions extends DbTargetOptions {
  port?: number;
  tunnel?: boolean;
}

const TUNNEL_ONLY = `gate proxy db only runs in tunnel mode: add --tunnel. Without it the local client
would have to present a Gatehouse certificate to the proxy itself, which psql and mysql cannot
do here; in tunnel mode the gateway does that for them and they connect in plain to 127.0.0.1.`;

type DbRoute = GatewayRoute & { protocol: DbProtocol };

/** Looks the database up (DB_NOT_FOUND) and pins what was asked, else what `gate db login` stored. */
async function resolveDbRoute(
  ctx: CommandContext,
  name: string,
  opts: DbTargetOptions & { requireUser?: boolean },
): Promise<{ profile: Profile; route: DbRoute }> {
  const { core } = ctx;
  const profile = core.requireValidProfile();
  const cluster = await core.cluster(profile.proxy);
  const db = await requireDatabase(cluster, profile, name).finally(() => cluster.close());
  const access = core.proxyAccess(profile);
  const stored = new DbLogins(core.profiles).load(profile, access.credentials.key, name, core.clock());
  let dbUser = opts.dbUser ?? stored?.dbUser;
  if (opts.requireUser) dbUser = chooseDbUser(db, dbUser);
  const dbName = opts.dbName ?? stored?.dbName;
  const request = dbLoginRequest({ name, dbUser, dbName });
  if (stored && JSON.stringify(dbLoginRequest(stored)) === JSON.stringify(request)) {
    core.routeCertificates.remember(profile, access.credentials.tlsCertificatePem, request, stored.certificate);
  }
  const route = {
    kind: 'db' as const,
    name,
    protocol: db.protocol,
    ...(dbUser !== undefined ? { user: dbUser } : {}),
    ...(dbName !== undefined ? { database: dbName } : {}),
  };
  return { profile, route };
}

/** Listens on 127.0.0.1 (port 0: any free one); refusals are reported on stderr as they happen. */
async function listenDbGateway(
  ctx: CommandContext,
  profile: Profile,
  route: DbRoute,
  port: number | undefined,
): Promise<{ gateways: GatewayService; info: GatewayInfo }> {
  const { core } = ctx;
  const gateways = new GatewayService({ protocols: builtinRouteProtocols() });
  const info = await gateways.create({
    route,
    ...(port !== undefined ? { localPort: port } : {}),
    access: loginAccess(ctx, profile),
  });
  gateways.get(info.id).onRefused((e) => {
    note(ctx.io, `gate: ${e.message} [${e.code}]`);
    // The same next step `gate ssh` gives for a node that wants a trusted device.
    if (e.code !== ErrorCode.DEVICE_UNTRUSTED) return;
    const trust = profileTrust(core, reloaded(ctx, profile));
    if (trust.state !== 'trusted')
      for (const line of requirementLines({ ...trust, required: true })) note(ctx.io, line);
  });
  return { gateways, info };
}

function clientTarget(route: DbRoute, info: GatewayInfo): DbClientTarget {
  return {
    host: info.localAddress,
    port: info.localPort,
    ...(route.user ? { dbUser: route.user } : {}),
    ...(route.database ? { dbName: route.database } : {}),
  };
}

/** `gate proxy db NAME --tunnel [--port P]`: prints the address and the client command, runs until Ctrl-C. */
export async function proxyDb(ctx: CommandContext, name: string, opts: ProxyDbOptions): Promise<number> {
  if (!opts.tunnel) throw new GatehouseError(ErrorCode.BAD_REQUEST, TUNNEL_ONLY);
  const { profile, route } = await resolveDbRoute(ctx, name, opts);
  const { gateways, info } = await listenDbGateway(ctx, profile, route, opts.port);
  const command = displayedDbClientCommand(route.protocol, clientTarget(route, info));
  // stdout carries only the address, so a script can read it; the how-to goes to stderr.
  print(ctx.io, `${info.localAddress}:${info.localPort}`);
  note(
    ctx.io,
    `Started a ${route.protocol} gateway for "${name}" on ${info.localAddress}:${info.localPort}` +
      `${route.user ? ` (db user "${route.user}"${route.database ? `, database "${route.database}"` : ''})` : ''}.\n` +
      `Connect with:\n  ${formatCommand(command)}\n` +
      `${route.user ? '' : 'Name a db user your roles allow in the client (--db-user pins one).\n'}` +
      `Stop with Ctrl-C.`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await gateways.closeAll();
  note(ctx.io, `gate proxy db: stopped (${signal})`);
  return 0;
}

/** `gate db connect NAME`: a gateway on a free port and the local client through it; its exit code. */
export async function dbConnect(ctx: CommandContext, name: string, opts: DbTargetOptions): Promise<number> {
  const { profile, route } = await resolveDbRoute(ctx, name, { ...opts, requireUser: true });
  // Before listening: a missing client is a clear error, not a gateway nobody uses.
  const client = findLocalDbClient(route.protocol, ctx.env.PATH ?? '');
  const { gateways, info } = await listenDbGateway(ctx, profile, route, undefined);
  try {
    const command = { program: client.path, args: dbClientArgs(client.program, clientTarget(route, info)) };
    return await runClient(command, ctx.env);
  } finally {
    await gateways.closeAll();
  }
}

/** Runs the client on this terminal; Ctrl-C belongs to it (psql cancels a query), not to gate. */
function runClient(command: DbClientCommand, env: Record<string, string | undefined>): Promise<number> {
  const ignore = () => {};
  process.on('SIGINT', ignore);
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command.program, command.args, { stdio: 'inherit', env: env as NodeJS.ProcessEnv });
    child.once('error', (e) =>
      reject(new GatehouseError(ErrorCode.INTERNAL, `cannot run ${command.program}: ${e.message}`)),
    );
    child.once('exit', (code, signal) => {
      // A client killed by a signal exits as a shell reports it: 128 + the signal number.
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  }).finally(() => process.off('SIGINT', ignore));
}
