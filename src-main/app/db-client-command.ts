// The local database client a gateway's "Run" starts, and the line its tab shows: built here in
// main from the gateway itself — the renderer only ever sends a gateway id, so no command line
// from a page can reach a PTY. Program choice and arguments are `gate`'s (gateways/db/
// client-command.ts), so the app and `gate proxy db` print the same thing; what is shown is what
// Run runs (the installed program: mariadb, else mysql — whose TLS flag differs).
import {
  dbClientArgs,
  findLocalDbClient,
  formatCommand,
  type DbClientTarget as ClientTarget,
} from '../gateways/db/client-command.ts';
import type { DbProtocol } from '../ipc/contract.ts';

export interface DbGatewayTarget {
  protocol: DbProtocol;
  localAddress: string;
  localPort: number;
  dbUser: string;
  dbName?: string;
}

/** The program named when none is installed (the tab still shows what to install and run). */
const USUAL_PROGRAM: Readonly<Record<DbProtocol, string>> = { postgres: 'psql', mysql: 'mariadb' };

function clientTarget(t: DbGatewayTarget): ClientTarget {
  return {
    host: t.localAddress,
    port: t.localPort,
    dbUser: t.dbUser,
    ...(t.dbName !== undefined ? { dbName: t.dbName } : {}),
  };
}

/** The installed client's name for the protocol, or the usual one when none is installed. */
export function clientProgramName(protocol: DbProtocol, searchPath = process.env.PATH ?? ''): string {
  try {
    return findLocalDbClient(protocol, searchPath).program;
  } catch {
    return USUAL_PROGRAM[protocol];
  }
}

/** The command line for display and copy, for `program` (see clientProgramName). */
export function displayedClientCommand(program: string, t: DbGatewayTarget): string {
  return formatCommand({ program, args: dbClientArgs(program, clientTarget(t)) });
}

/** What Run starts: the absolute path of the installed client and its arguments; NOT_FOUND naming the package. */
export function runnableClientCommand(
  t: DbGatewayTarget,
  searchPath = process.env.PATH ?? '',
): { file: string; program: string; args: string[] } {
  const found = findLocalDbClient(t.protocol, searchPath);
  return { file: found.path, program: found.program, args: dbClientArgs(found.program, clientTarget(t)) };
}
