// Test double of a database client front (the DbClientFront contract) speaking a one-line
// protocol instead of Postgres or MySQL, so the gateway's front hook — pinned values winning,
// the login message forwarded after the proxy's ok, refusals in the client's "protocol", a
// connection that asks for nothing — is tested without either wire protocol:
//   client → "LOGIN <user> [<database>]\n" (or "CANCEL\n"), then any bytes
//   refusal → "ERROR <message>\n", then end
import type * as net from 'node:net';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { readLine } from '../../../src-shared/ssh-route.ts';
import type { DbClientFront, DbLogin } from '../db/front.ts';

const OPENING_ERRORS = {
  code: ErrorCode.BAD_REQUEST,
  closed: 'the client left before its login line',
  timeout: 'no login line in time',
  tooLong: 'login line too long',
};

export function lineDbFront(protocol: 'postgres' | 'mysql' = 'postgres'): DbClientFront & { opened: string[] } {
  const opened: string[] = [];
  return {
    protocol,
    opened,
    async open(local: net.Socket, pinned, timeoutMs): Promise<DbLogin | undefined> {
      const reading = readLine(local, timeoutMs, OPENING_ERRORS);
      local.resume(); // the gateway hands the socket over paused, as the real fronts expect
      const line = await reading;
      opened.push(line);
      if (line === 'CANCEL') return undefined;
      const [verb, user, database] = line.split(' ');
      if (verb !== 'LOGIN' || !user) throw new GatehouseError(ErrorCode.BAD_REQUEST, `not a login line: ${line}`);
      const dbUser = pinned.dbUser ?? user;
      const dbName = pinned.dbName ?? database;
      // Like the Postgres front, the forwarded login message carries the values that won.
      const loginMessage = Buffer.from(`LOGIN ${dbUser}${dbName ? ` ${dbName}` : ''}\n`);
      return { dbUser, ...(dbName ? { dbName } : {}), loginMessage };
    },
    refuse(local: net.Socket, message: string): void {
      local.end(`ERROR ${message}\n`);
    },
  };
}
