// The local database client a gateway's "Run" starts: psql for PostgreSQL, mariadb (or mysql)
// for MySQL, pointed at the gateway's loopback port with the db user / db name chosen at connect
// time. Built here in main from the gateway itself — the renderer only ever sends a gateway id,
// so no command line from a page can reach a PTY. The same words are shown (and copied) in the
// gateway tab, so what the person pastes elsewhere is exactly what Run runs.
import { accessSync, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { DbProtocol } from '../ipc/contract.ts';

export interface DbClientTarget {
  protocol: DbProtocol;
  localAddress: string;
  localPort: number;
  dbUser: string;
  dbName?: string;
}

export interface DbClientCommand {
  /** Program names to look for on PATH, preferred first. */
  programs: readonly string[];
  args: string[];
  /** The Debian/Ubuntu package that ships the program, for the "not installed" message. */
  packageName: string;
  /** One shell line (POSIX quoting) for display and copy. */
  display: string;
}

/** Single-quotes a word when a POSIX shell would otherwise split or expand it. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function dbClientCommand(t: DbClientTarget): DbClientCommand {
  if (t.protocol === 'postgres') {
    // A conninfo string keeps user and database explicit (no PGUSER/PGDATABASE surprises);
    // sslmode=disable because the loopback leg is plain: TLS starts at the gateway.
    const conninfo = [
      `host=${t.localAddress}`,
      `port=${t.localPort}`,
      `user=${t.dbUser}`,
      `dbname=${t.dbName ?? t.dbUser}`,
      'sslmode=disable',
    ].join(' ');
    const args = [conninfo];
    return { programs: ['psql'], args, packageName: 'postgresql-client', display: render('psql', args) };
  }
  // --skip-ssl: the gateway's MySQL greeting offers no TLS (the loopback leg is plain), and a
  // client that insists on it is refused. -h with an IP makes the client use TCP, not a socket.
  const args = ['-h', t.localAddress, '-P', String(t.localPort), '-u', t.dbUser, '--skip-ssl'];
  if (t.dbName) args.push(t.dbName);
  return { programs: ['mariadb', 'mysql'], args, packageName: 'mariadb-client', display: render('mariadb', args) };
}

function render(program: string, args: string[]): string {
  return [program, ...args].map(shellQuote).join(' ');
}

/**
 * The absolute path of the first program found on PATH, or NOT_FOUND naming the package to
 * install (node-pty would otherwise start a terminal that dies at once with no reason).
 */
export function findClientProgram(command: DbClientCommand, searchPath = process.env.PATH ?? ''): string {
  const dirs = searchPath.split(path.delimiter).filter((d) => path.isAbsolute(d));
  for (const program of command.programs) {
    for (const dir of dirs) {
      const candidate = path.join(dir, program);
      try {
        accessSync(candidate, fsConstants.X_OK);
        return candidate;
      } catch {
        // not in this directory
      }
    }
  }
  const names = command.programs.join(' or ');
  throw new GatehouseError(
    ErrorCode.NOT_FOUND,
    `${names} is not installed on this computer; install the ${command.packageName} package`,
    { program: command.programs[0], package: command.packageName },
  );
}
