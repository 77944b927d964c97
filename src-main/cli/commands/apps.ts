// `gate apps ls`, `gate app login|config|logout`: the apps the user's roles allow, and route
// certificates for them kept beside the login key (core/app-logins.ts).
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { AppLogins, appLoginRequest, type AppLoginPaths, type StoredAppLogin } from '../../core/app-logins.ts';
import type { AppInfo, ClusterClient } from '../../core/cluster-client.ts';
import type { Profile } from '../../core/profiles.ts';
import { parseProxyAddress } from '../../core/proxy-address.ts';
import { APP_PROTOCOLS, type AppProtocol } from '../../gateways/route.ts';
import type { CommandContext } from '../context.ts';
import { formatTable, print } from '../io.ts';
import { labelsText } from './ls.ts';

export type KnownApp = AppInfo & { kind: AppProtocol };

/**
 * The app as the user's roles let them see it; APP_NOT_FOUND (exit 3) when they do not (ListApps
 * hides an app no role allows or a role denies, as ListDatabases does) or it is gone.
 */
export async function requireApp(cluster: ClusterClient, profile: Profile, name: string): Promise<KnownApp> {
  const app = (await cluster.listApps(profile)).find((a) => a.name === name);
  if (!app) {
    throw new GatehouseError(
      ErrorCode.APP_NOT_FOUND,
      `no app "${name}" that your roles allow; "gate apps ls" lists the ones you can reach`,
      { app: name },
    );
  }
  if (!(APP_PROTOCOLS as readonly string[]).includes(app.kind)) {
    throw new GatehouseError(
      ErrorCode.INTERNAL,
      `app "${name}" is of kind "${app.kind}", which this gate cannot reach`,
    );
  }
  return app as KnownApp;
}

/** The `gate apps ls` table; "> " marks apps with a stored `gate app login`. */
export function appsTable(apps: AppInfo[], loggedIn: ReadonlySet<string>): string {
  const rows = apps.map((a) => [
    `${loggedIn.has(a.name) ? '> ' : '  '}${a.name}`,
    a.kind,
    a.uri,
    a.publicAddr,
    labelsText(a.labels),
  ]);
  return formatTable(['  Name', 'Kind', 'URI', 'Public Address', 'Labels'], rows);
}

/** `gate apps ls`: name, kind, uri, public address and labels of the apps the roles allow. */
export async function appsLs(ctx: CommandContext, values: { format: 'text' | 'json' }): Promise<number> {
  const profile = ctx.core.requireValidProfile();
  const cluster = await ctx.core.cluster(profile.proxy);
  try {
    const apps = await cluster.listApps(profile);
    if (values.format === 'json') print(ctx.io, JSON.stringify(apps, null, 2));
    else print(ctx.io, appsTable(apps, new Set(new AppLogins(ctx.core.profiles).list(profile))));
  } finally {
    cluster.close();
  }
  return 0;
}

/** `gate app login NAME`: issues a route certificate for the app and stores it beside the login key. */
export async function appLogin(ctx: CommandContext, name: string): Promise<number> {
  const { core } = ctx;
  const profile = core.requireValidProfile();
  const cluster = await core.cluster(profile.proxy);
  const app = await requireApp(cluster, profile, name).finally(() => cluster.close());
  const access = core.proxyAccess(profile);
  const cert = await access.routeCertificate(appLoginRequest(name));
  const record = { name, kind: app.kind, uri: app.uri, ...(app.publicAddr ? { publicAddr: app.publicAddr } : {}) };
  new AppLogins(core.profiles).save(profile, record, cert, access.proxyCaPem);
  print(
    ctx.io,
    `Logged into app "${name}" (${app.kind}); certificate valid until ${cert.expiresAt.toISOString()}.\n` +
      `Next: "gate proxy app ${name}" opens a local ${app.kind === 'http' ? 'http://127.0.0.1 address for your browser or curl' : 'port for your client'}; ` +
      `"gate app config ${name}" shows the certificate files.`,
  );
  return 0;
}

/** What `gate app config` prints: the files, the proxy URL, and honestly how to use them. */
export function appConfigText(login: StoredAppLogin, paths: AppLoginPaths, proxyAddress: string): string {
  const lines = [
    `Name:        ${login.name} (${login.kind})`,
    `URL:         https://${proxyAddress}/`,
    `CA:          ${paths.cacert}   (--cacert)`,
    `Cert:        ${paths.cert}   (--cert)`,
    `Key:         ${paths.key}   (--key)`,
    `Valid until: ${login.expiresAt}`,
    '',
    `These are the credentials the gateway presents. curl with them straight to https://${proxyAddress}/`,
    `reaches the proxy but not the app: the proxy routes to an app only on its own TLS protocol`,
    `(ALPN ${login.kind === 'http' ? 'gatehouse-app' : 'gatehouse-tcp'}) after a one-line routing header, which curl cannot send.`,
    `Reach the app through the local gateway, which presents this certificate for you:`,
    `  gate proxy app ${login.name} -p 8888`,
    login.kind === 'http' ? '  curl http://127.0.0.1:8888/' : '  then point your client at 127.0.0.1:8888',
  ];
  return lines.join('\n');
}

/** `gate app config NAME`: the stored app login's files and URL (text, or JSON with --format json). */
export async function appConfig(
  ctx: CommandContext,
  name: string,
  values: { format: 'text' | 'json' },
): Promise<number> {
  const { core } = ctx;
  const profile = core.requireValidProfile();
  const logins = new AppLogins(core.profiles);
  const key = core.profiles.loadCredentials(profile).key;
  const login = logins.load(profile, key, name, core.clock());
  if (!login) {
    throw new GatehouseError(
      ErrorCode.NOT_FOUND,
      `no valid app login for "${name}" (none, expired, or from an earlier login); run "gate app login ${name}"`,
      { app: name },
    );
  }
  const paths = logins.paths(profile, name);
  const proxyAddress = parseProxyAddress(profile.proxy).address;
  if (values.format === 'json') {
    const json = { name, kind: login.kind, url: `https://${proxyAddress}/`, ...paths, expiresAt: login.expiresAt };
    print(ctx.io, JSON.stringify(json, null, 2));
  } else print(ctx.io, appConfigText(login, paths, proxyAddress));
  return 0;
}

/** `gate app logout [NAME]`: removes one stored app login, or all of the current login's. */
export async function appLogout(ctx: CommandContext, name: string | undefined): Promise<number> {
  const profile = ctx.core.profiles.requireCurrent();
  const removed = new AppLogins(ctx.core.profiles).remove(profile, name);
  if (name !== undefined && removed.length === 0) {
    throw new GatehouseError(ErrorCode.NOT_FOUND, `not logged into app "${name}"`, { app: name });
  }
  print(ctx.io, removed.length ? `Logged out of ${removed.map((n) => `"${n}"`).join(', ')}.` : 'No app logins.');
  return 0;
}
