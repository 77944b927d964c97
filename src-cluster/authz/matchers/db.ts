// Databases: selected by `db_labels`; the database user granted by `db_users` and, for protocols
// that name a database at connect time, the database name by `db_names` (`*` grants any). The
// same role must grant the labels, the user and the name, so two narrow roles do not combine
// into a wider grant.
import type { KindMatcher, RequestedPrincipal } from './matcher.ts';
import { requestedPrincipal } from './requested.ts';

export const DB_RESOURCE_KIND = 'db';

export interface DbAction {
  /** The database user to connect as. */
  dbUser: string;
  /** The database (schema) inside the server; absent when the protocol names none (e.g. MySQL). */
  dbName?: string;
}

/** What the db service enforces on the connection once access is granted. */
export interface DbLimits {
  dbUser: string;
  dbName?: string;
}

export const dbMatcher: KindMatcher<DbAction, DbLimits> = {
  kind: DB_RESOURCE_KIND,
  noun: 'database',
  labelsField: 'db_labels',
  principals(action) {
    const out: RequestedPrincipal[] = [requestedPrincipal('db_users', action.dbUser)];
    if (action.dbName !== undefined) out.push(requestedPrincipal('db_names', action.dbName));
    return out;
  },
  lockTargets: (db) => [{ kind: 'db', value: db.name }],
  auditContext: (db, action) => ({
    db: db.name,
    db_user: action.dbUser,
    ...(action.dbName !== undefined ? { db_name: action.dbName } : {}),
    action: 'db',
  }),
  grant: (_context, _db, action) => ({
    allowed: true,
    limits: action.dbName === undefined ? { dbUser: action.dbUser } : { dbUser: action.dbUser, dbName: action.dbName },
  }),
};
