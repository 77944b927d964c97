// The proxy's database routes (ALPN gatehouse-postgres / gatehouse-mysql): the client's user
// certificate must be a route certificate for kind "db" naming the database of the header (and
// the db user / db name wherever it pins them); the proxy finds the database and a live db
// service serving it, dials that service with mutual TLS as itself (host certificate, ALPN
// gatehouse-db-service/1), forwards the header with the user's certificate, and from then on
// relays bytes unchanged, the db service's reply line first. The proxy writes a reply itself
// only for its own refusals; every decision about access is the db service's.
import type * as tls from 'node:tls';
import { ALPN_DB_SERVICE } from '../../src-shared/cert-fields.ts';
import { readDbRouteRequest, writeDbHeaderLine, type DbRouteRequest } from '../../src-shared/db-route.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { dbRouteProblem } from '../auth/cert-route.ts';
import type { TlsIdentity } from '../auth/x509.ts';
import {
  clientAddress,
  dialService,
  peerCertPem,
  refuseRoute,
  relayToService,
  type RoutableService,
  type ServiceHostTls,
  type ServiceRouteContext,
} from './service-route.ts';

export type DbRouteProtocol = 'postgres' | 'mysql';

export interface RoutableDatabase {
  name: string;
  protocol: DbRouteProtocol;
}

export type RoutableDbService = RoutableService;

export interface DbRouteBackends {
  findDatabase(name: string): Promise<RoutableDatabase | undefined>;
  /** A live db service serving the database; undefined when none is online. */
  dbServiceFor(name: string): Promise<RoutableDbService | undefined>;
  /** The proxy's host identity toward db services and the host CA(s) they are checked against. */
  hostTls(): ServiceHostTls;
}

export interface DbRouteContext extends ServiceRouteContext {
  protocol: DbRouteProtocol;
  backends: DbRouteBackends | undefined;
}

function refuse(code: ErrorCode, message: string): GatehouseError {
  return new GatehouseError(code, message);
}

/** The user's certificate, checked as a route certificate for this request. */
function routeCheckedCert(ctx: DbRouteContext, request: DbRouteRequest): { identity: TlsIdentity; pem: string } {
  const identity = ctx.clientIdentity(ctx.socket);
  const problem = dbRouteProblem(identity.route, {
    db: request.db,
    dbUser: request.db_user,
    ...(request.db_name !== undefined ? { dbName: request.db_name } : {}),
  });
  if (problem) throw refuse(ErrorCode.ACCESS_DENIED, problem);
  return { identity, pem: peerCertPem(ctx.socket) };
}

function dialDbService(ctx: DbRouteContext, service: RoutableDbService, db: string): Promise<tls.TLSSocket> {
  return dialService(ctx, {
    hostTls: ctx.backends!.hostTls(),
    service,
    alpn: ALPN_DB_SERVICE,
    role: 'db',
    unreachable: (why) =>
      refuse(
        ErrorCode.DB_UNREACHABLE,
        `db service "${service.name}" for database "${db}" at ${service.address} is unreachable: ${why}`,
      ),
  });
}

/** One database connection through the proxy; never throws (refusals go to the client as a reply line). */
export async function relayDbRoute(ctx: DbRouteContext): Promise<void> {
  const { socket, log } = ctx;
  let request: DbRouteRequest | undefined;
  try {
    // The certificate first: an anonymous client learns nothing, not even whether a header parses.
    ctx.clientIdentity(socket);
    if (!ctx.backends) throw refuse(ErrorCode.DB_UNREACHABLE, 'this proxy does not route databases');
    request = await readDbRouteRequest(socket);
    const { identity, pem } = routeCheckedCert(ctx, request);
    const database = await ctx.backends.findDatabase(request.db);
    if (!database) throw refuse(ErrorCode.DB_NOT_FOUND, `database "${request.db}" not found`);
    if (database.protocol !== ctx.protocol) {
      throw refuse(
        ErrorCode.BAD_REQUEST,
        `database "${database.name}" speaks ${database.protocol}, not ${ctx.protocol}`,
      );
    }
    const service = await ctx.backends.dbServiceFor(database.name);
    if (!service) throw refuse(ErrorCode.DB_UNREACHABLE, `no db service serving database "${database.name}" is online`);
    const upstream = await dialDbService(ctx, service, database.name);
    ctx.track(upstream);
    writeDbHeaderLine(upstream, {
      ...request,
      protocol: ctx.protocol,
      user_cert_pem: pem,
      client_addr: clientAddress(socket),
    });
    log.info('db relay started', { user: identity.user, db: database.name, db_service: service.name });
    relayToService(socket, upstream);
  } catch (e) {
    refuseRoute(socket, e, log, 'db relay refused', { db: request?.db });
  }
}
