// What a gateway reaches: a route = resource kind + resource name (+ the user/database inside it
// where the kind has one). Each kind contributes one RouteProtocol (the proxy's ALPN name for it
// and the routing header the proxy expects), so a new kind of access is a new folder under
// gateways/ that registers its protocol, not edits to the gateway machinery.
import type { Socket } from 'node:net';
import { APP_KINDS, type AppKind } from '../../src-shared/app-route.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

/** Kinds of access a gateway may carry; a kind without a registered protocol is refused. */
export const GATEWAY_KINDS = ['ssh', 'db', 'app', 'kube'] as const;
export type GatewayKind = (typeof GATEWAY_KINDS)[number];

/** Longest resource, user or database name accepted (the proxy's header limit is 4 KiB). */
export const MAX_ROUTE_NAME = 253;

/** Wire protocols a db route can carry; the proxy routes each on its own ALPN name. */
export const DB_PROTOCOLS = ['postgres', 'mysql'] as const;
export type DbProtocol = (typeof DB_PROTOCOLS)[number];
/** What an app route carries: HTTP (ALPN gatehouse-app) or a TCP app's own protocol (gatehouse-tcp). */
export const APP_PROTOCOLS = APP_KINDS;
export type AppProtocol = AppKind;

/** The kinds whose route must name a protocol, and the protocols each allows. */
const ROUTE_PROTOCOLS: Partial<Record<GatewayKind, readonly string[]>> = { db: DB_PROTOCOLS, app: APP_PROTOCOLS };

export interface GatewayRoute {
  kind: GatewayKind;
  /** The resource: node name, database name in the cluster, app name, kube cluster name. */
  name: string;
  /** The user inside the resource where the kind has one (database user); SSH logins are in the SSH handshake. */
  user?: string;
  /** The database inside a database server. */
  database?: string;
  /**
   * db routes: the database's wire protocol (from ListDatabases), which picks the ALPN and the
   * front; app routes: the app's kind (from ListApps), "http" or "tcp". Other kinds have none.
   */
  protocol?: DbProtocol | AppProtocol;
}

/**
 * What a gateway learned from the local client before dialing (a front, e.g. the db user and
 * db name in a Postgres StartupMessage); pinned route values have already won over the client's.
 */
export interface RouteTarget {
  user?: string;
  database?: string;
}

/** How one kind of route is spoken to the proxy: its ALPN protocol and its one-line routing header. */
export interface RouteProtocol {
  kind: GatewayKind;
  /** The proxy's ALPN name for this route (a db route's depends on its protocol). */
  alpn(route: GatewayRoute): string;
  /**
   * The JSON object the proxy reads before any payload byte, for the route and what a front
   * learned from the local client; throws BAD_REQUEST for a route it cannot express.
   */
  header(route: GatewayRoute, target?: RouteTarget): Record<string, string>;
  /**
   * A front for kinds whose local client must be answered before the tunnel can be opened (a
   * database client's opening names the db user); kinds that relay from the first byte have none.
   */
  front?(route: GatewayRoute): GatewayFront;
  /** How a refused connection is answered when the kind has no front; none: it is closed. */
  refusal?(route: GatewayRoute): LocalRefusal | undefined;
}

/** What a front learned from one local connection: where to route it and the bytes to send first. */
export interface FrontOpening {
  target: RouteTarget;
  /** Written into the tunnel after the proxy's ok, before relaying (e.g. the client's login message). */
  firstBytes: Buffer;
}

/** The gateway's side of a local client's opening, in that client's own protocol. */
export interface GatewayFront {
  /** undefined: the connection asked for nothing to route (the gateway closes it). */
  open(local: Socket): Promise<FrontOpening | undefined>;
  /** Tells the local client, in its protocol, why it was refused; then ends the connection. */
  refuse(local: Socket, message: string): void;
}

/**
 * For kinds without a front whose local client still speaks a protocol the gateway can answer
 * (HTTP apps: a denial page): answers the refused connection with the coded error and ends it.
 */
export type LocalRefusal = (local: Socket, error: GatehouseError) => void;

/** "ssh:web1", "db:orders (user alice, database sales)": how logs and lists name a route. */
export function describeRoute(route: GatewayRoute): string {
  const inside = [
    ...(route.user ? [`user ${route.user}`] : []),
    ...(route.database ? [`database ${route.database}`] : []),
  ];
  return `${route.kind}:${route.name}${inside.length ? ` (${inside.join(', ')})` : ''}`;
}

/** Checks a route from an untrusted caller (CLI flags, IPC input) and returns a clean copy. */
export function validateRoute(route: GatewayRoute): GatewayRoute {
  if (!(GATEWAY_KINDS as readonly string[]).includes(route.kind)) {
    throw new GatehouseError(
      ErrorCode.UNKNOWN_KIND,
      `"${String(route.kind)}" is not a kind of gateway (${GATEWAY_KINDS.join(', ')})`,
    );
  }
  const checkName = (what: string, value: string | undefined) => {
    if (value === undefined) return;
    if (value.length === 0 || value.length > MAX_ROUTE_NAME || /[\s\0]/.test(value)) {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `the ${what} of a ${route.kind} gateway must be 1-${MAX_ROUTE_NAME} characters without spaces`,
        { [what]: value.slice(0, 100) },
      );
    }
  };
  checkName('name', typeof route.name === 'string' ? route.name : '');
  checkName('user', route.user);
  checkName('database', route.database);
  checkProtocol(route);
  return {
    kind: route.kind,
    name: route.name,
    ...(route.user !== undefined ? { user: route.user } : {}),
    ...(route.database !== undefined ? { database: route.database } : {}),
    ...(route.protocol !== undefined ? { protocol: route.protocol } : {}),
  };
}

/** A db or app route must say its protocol (it picks the ALPN, and a db route's front); no other kind has one. */
function checkProtocol(route: GatewayRoute): void {
  const allowed = ROUTE_PROTOCOLS[route.kind];
  if (!allowed) {
    if (route.protocol !== undefined) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `a ${route.kind} gateway has no protocol`);
    }
    return;
  }
  if (!allowed.includes(route.protocol as string)) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `the protocol of ${route.kind === 'app' ? 'an' : 'a'} ${route.kind} gateway must be one of ${allowed.join(', ')}, not "${String(route.protocol)}"`,
      { protocol: String(route.protocol).slice(0, 100) },
    );
  }
}

/** The protocols this build can route, by kind; composed once (no module-level registry). */
export class RouteProtocols {
  private readonly byKind = new Map<GatewayKind, RouteProtocol>();

  constructor(protocols: RouteProtocol[]) {
    for (const p of protocols) {
      if (this.byKind.has(p.kind)) throw new GatehouseError(ErrorCode.CONFIG, `two route protocols for "${p.kind}"`);
      this.byKind.set(p.kind, p);
    }
  }

  /** The protocol for the route's kind, or UNKNOWN_KIND naming what this build supports. */
  forRoute(route: GatewayRoute): RouteProtocol {
    const p = this.byKind.get(route.kind);
    if (!p) {
      const known = [...this.byKind.keys()].join(', ') || 'none';
      throw new GatehouseError(
        ErrorCode.UNKNOWN_KIND,
        `this version cannot open ${route.kind} gateways yet (supported: ${known})`,
        { kind: route.kind },
      );
    }
    return p;
  }
}
