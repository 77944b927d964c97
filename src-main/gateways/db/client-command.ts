// The local database client to point at a db gateway: which program (psql; mariadb, else mysql)
// and the exact arguments, both for showing (`gate proxy db` prints it) and for running (`gate db
// connect`). The local leg is plain loopback — the gateway answers Postgres' SSLRequest with 'N'
// and greets MySQL clients without TLS — so TLS is switched off explicitly: a client that insists
// on it would otherwise fail against the gateway.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { DbProtocol } from '../route.ts';

export interface DbClientTarget {
  host: string;
  port: number;
  dbUser?: string;
  dbName?: string;
}

export interface DbClientCommand {
  program: string;
  args: string[];
}

/** Programs tried per protocol, in order, and the Debian package that ships the first. */
const CLIENTS: Readonly<Record<DbProtocol, { programs: string[]; packageName: string }>> = {
  postgres: { programs: ['psql'], packageName: 'postgresql-client' },
  mysql: { programs: ['mariadb', 'mysql'], packageName: 'mariadb-client' },
};

/** Arguments for `program` (psql, mariadb or mysql) to reach the gateway at `t`. */
export function dbClientArgs(program: string, t: DbClientTarget): string[] {
  if (program === 'psql') {
    const conninfo = [
      `host=${t.host}`,
      `port=${t.port}`,
      ...(t.dbUser ? [`user=${t.dbUser}`] : []),
      ...(t.dbName ? [`dbname=${t.dbName}`] : []),
      'sslmode=disable',
    ];
    return [conninfo.join(' ')];
  }
  return [
    '--protocol=TCP',
    `--host=${t.host}`,
    `--port=${t.port}`,
    ...(t.dbUser ? [`--user=${t.dbUser}`] : []),
    // mariadb and mysql 8 spell "no TLS" differently; neither accepts the other's flag.
    program === 'mysql' ? '--ssl-mode=DISABLED' : '--skip-ssl',
    ...(t.dbName ? [t.dbName] : []),
  ];
}

/** The command as a person would type it (arguments with spaces quoted). */
export function formatCommand(c: DbClientCommand): string {
  const quote = (a: string) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(a) ? a : `"${a.replace(/(["\\$`])/g, '\\$1')}"`);
  return [c.program, ...c.args.map(quote)].join(' ');
}

/** The command to show for the protocol, with its usual program name (psql, mysql). */
export function displayedDbClientCommand(protocol: DbProtocol, t: DbClientTarget): DbClientCommand {
  const program = protocol === 'postgres' ? 'psql' : 'mysql';
  return { program, args: dbClientArgs(program, t) };
}

/** The first executable named `program` on `searchPath` (PATH syntax), or undefined. */
export function findOnPath(program: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The installed client program for the protocol (its path and its name, which picks the
 * arguments); NOT_FOUND naming the package to install when there is none, so a missing program
 * never looks like a refused connection.
 */
export function findLocalDbClient(protocol: DbProtocol, searchPath: string): { path: string; program: string } {
  const { programs, packageName } = CLIENTS[protocol];
  for (const program of programs) {
    const path = findOnPath(program, searchPath);
    if (path) return { path, program };
  }
  throw new GatehouseError(
    ErrorCode.NOT_FOUND,
    `${programs.join(' or ')} is not installed (looked in PATH); install the ${packageName} package`,
    { programs, package: packageName },
  );
}
