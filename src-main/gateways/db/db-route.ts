// Databases as a gateway route: ALPN gatehouse-postgres or gatehouse-mysql by the route's
// protocol, the header {"db","db_user","db_name"?} the proxy checks against the route
// certificate, and the protocol's client front, which learns the db user / db name from the
// local client's own opening before the tunnel is dialed (values pinned in the route win).
import { ALPN_MYSQL, ALPN_POSTGRES } from '../../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { DbProtocol, FrontOpening, GatewayFront, GatewayRoute, RouteProtocol, RouteTarget } from '../route.ts';
import { DEFAULT_FRONT_OPEN_TIMEOUT_MS, type DbClientFront } from './front.ts';
import { MysqlFront } from './mysql-front.ts';
import { PostgresFront } from './postgres-front.ts';

const ALPN_BY_PROTOCOL: Readonly<Record<DbProtocol, string>> = { postgres: ALPN_POSTGRES, mysql: ALPN_MYSQL };

/** The one client front per database protocol this build speaks. */
export type DbClientFronts = Readonly<Record<DbProtocol, DbClientFront>>;

/** The real fronts, composed in this one place (gate and the app get them via builtinRouteProtocols). */
export function builtinDbFronts(): DbClientFronts {
  return { postgres: new PostgresFront(), mysql: new MysqlFront() };
}

function protocolOf(route: GatewayRoute): DbProtocol {
  if (route.protocol === undefined || !(route.protocol in ALPN_BY_PROTOCOL)) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `the db gateway for "${route.name}" names no protocol`);
  }
  return route.protocol as DbProtocol;
}

/** The header the proxy's db route reads: strings only, db_name absent when there is none. */
export function dbRouteHeader(route: GatewayRoute, target: RouteTarget = {}): Record<string, string> {
  const dbUser = target.user ?? route.user;
  const dbName = target.database ?? route.database;
  if (!dbUser) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `no database user for "${route.name}": the client named none and the gateway pins none`,
    );
  }
  return { db: route.name, db_user: dbUser, ...(dbName ? { db_name: dbName } : {}) };
}

/** Adapts a protocol's DbClientFront to the gateway: pinned values from the route, a deadline. */
export function dbGatewayFront(
  front: DbClientFront,
  route: GatewayRoute,
  timeoutMs = DEFAULT_FRONT_OPEN_TIMEOUT_MS,
): GatewayFront {
  const pinned = {
    ...(route.user !== undefined ? { dbUser: route.user } : {}),
    ...(route.database !== undefined ? { dbName: route.database } : {}),
  };
  return {
    async open(local): Promise<FrontOpening | undefined> {
      const login = await front.open(local, pinned, timeoutMs);
      if (!login) return undefined;
      return {
        target: { user: login.dbUser, ...(login.dbName !== undefined ? { database: login.dbName } : {}) },
        firstBytes: login.loginMessage,
      };
    },
    refuse: (local, message) => front.refuse(local, message),
  };
}

/** The db RouteProtocol, speaking to local clients through `fronts`. */
export function dbRouteProtocol(fronts: DbClientFronts, timeoutMs = DEFAULT_FRONT_OPEN_TIMEOUT_MS): RouteProtocol {
  return {
    kind: 'db',
    alpn: (route) => ALPN_BY_PROTOCOL[protocolOf(route)],
    header: dbRouteHeader,
    front: (route) => dbGatewayFront(fronts[protocolOf(route)], route, timeoutMs),
  };
}
