// `gate db ls`, `gate db login`, `gate db logout`: the databases the user's roles allow, and
// route certificates for them kept under the login's profile directory (core/db-logins.ts).
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { ClusterClient, DatabaseInfo } from '../../core/cluster-client.ts';
import { DbLogins, dbLoginRequest } from '../../core/db-logins.ts';
import type { Profile } from '../../core/profiles.ts';
import { DB_PROTOCOLS, type DbProtocol } from '../../gateways/route.ts';
import type { CommandContext } from '../context.ts';
import { formatTable, print } from '../io.ts';
import { labelsText } from './ls.ts';

export interface DbTargetOptions {
  dbUser?: string;
  dbName?: string;
}

/** The database as the user's roles let them see it; DB_NOT_FOUND when they do not (or it is gone). */
export async function requireDatabase(
  cluster: ClusterClient,
  profile: Profile,
  name: string,
): Promise<DatabaseInfo & { protocol: DbProtocol }> {
  const db = (await cluster.listDatabases(profile)).find((d) => d.name === name);
  if (!db) {
    throw new GatehouseError(
      ErrorCode.DB_NOT_FOUND,
      `no database "${name}" that your roles allow; "gate db ls" lists the ones you can reach`,
      { db: name },
    );
  }
  if (!(DB_PROTOCOLS as readonly string[]).includes(db.protocol)) {
    throw new GatehouseError(ErrorCode.INTERNAL, `database "${name}" speaks "${db.protocol}", which this gate cannot`);
  }
  return db as DatabaseInfo & { protocol: DbProtocol };
}

/**
 * The db user to pin: the one asked for, else the only one the roles allow. With several (or
 * "*") the user must choose, as tsh asks for --db-user.
 */
export function chooseDbUser(db: DatabaseInfo, asked: string | undefined): string {
  if (asked) return asked;
  const allowed = db.allowedDbUsers;
  if (allowed.length === 1 && allowed[0] !== '*') return allowed[0]!;
  if (allowed.length === 0) {
    throw new GatehouseError(ErrorCode.ACCESS_DENIED, `your roles allow no database user on "${db.name}"`);
  }
  throw new GatehouseError(
    ErrorCode.BAD_REQUEST,
    `choose a database user with --db-user (allowed on "${db.name}": ${allowed.join(', ')})`,
  );
}

/** "alice, bob" or "(any)" for "*": what a person may pass as --db-user / --db-name. */
function allowedText(values: string[]): string {
  return values.map((v) => (v === '*' ? '(any)' : v)).join(', ');
}

/** `gate db ls`: name, protocol, labels and the db users / names the roles allow. */
export async function dbLs(ctx: CommandContext, values: { format: 'text' | 'json' }): Promise<number> {
  const profile = ctx.core.requireValidProfile();
  const cluster = await ctx.core.cluster(profile.proxy);
  try {
    const dbs = await cluster.listDatabases(profile);
    const logged = new Set(new DbLogins(ctx.core.profiles).list(profile));
    if (values.format === 'json') {
      print(ctx.io, JSON.stringify(dbs, null, 2));
      return 0;
    }
    const rows = dbs.map((d) => [
      `${logged.has(d.name) ? '> ' : '  '}${d.name}`,
      d.protocol,
      d.description,
      allowedText(d.allowedDbUsers),
      allowedText(d.allowedDbNames),
      labelsText(d.labels),
    ]);
    print(
      ctx.io,
      formatTable(['  Name', 'Protocol', 'Description', 'Allowed Users', 'Database Names', 'Labels'], rows),
    );
  } finally {
    cluster.close();
  }
  return 0;
}

/** `gate db login NAME`: issues a route certificate for the database and stores it with the login. */
export async function dbLogin(ctx: CommandContext, name: string, opts: DbTargetOptions): Promise<number> {
  const { core } = ctx;
  const profile = core.requireValidProfile();
  const cluster = await core.cluster(profile.proxy);
  let db: DatabaseInfo & { protocol: DbProtocol };
  try {
    db = await requireDatabase(cluster, profile, name);
  } finally {
    cluster.close();
  }
  const dbUser = chooseDbUser(db, opts.dbUser);
  const record = { name, protocol: db.protocol, dbUser, ...(opts.dbName ? { dbName: opts.dbName } : {}) };
  const access = core.proxyAccess(profile);
  const cert = await access.routeCertificate(dbLoginRequest(record));
  new DbLogins(core.profiles).save(profile, record, cert);
  print(
    ctx.io,
    `Logged into database "${name}" (${db.protocol}) as db user "${dbUser}"` +
      `${opts.dbName ? `, database "${opts.dbName}"` : ''}; certificate valid until ${cert.expiresAt.toISOString()}.\n` +
      `Next: "gate db connect ${name}" runs the ${db.protocol === 'postgres' ? 'psql' : 'mysql'} client, or\n` +
      `"gate proxy db ${name} --tunnel" opens a local port for any client.`,
  );
  return 0;
}

/** `gate db logout [NAME]`: removes one stored db login, or all of the current login's. */
export async function dbLogout(ctx: CommandContext, name: string | undefined): Promise<number> {
  const profile = ctx.core.profiles.requireCurrent();
  const removed = new DbLogins(ctx.core.profiles).remove(profile, name);
  if (name !== undefined && removed.length === 0) {
    throw new GatehouseError(ErrorCode.NOT_FOUND, `not logged into database "${name}"`, { db: name });
  }
  print(ctx.io, removed.length ? `Logged out of ${removed.map((n) => `"${n}"`).join(', ')}.` : 'No database logins.');
  return 0;
}
