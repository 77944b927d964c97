// The proxy's app routes (ALPN gatehouse-app for HTTP apps, gatehouse-tcp for TCP apps): the
// client's user certificate must be a route certificate for kind "app" naming the app of the
// gateway's header; the proxy finds the app and a live app service serving it, dials that service
// with mutual TLS as itself (host certificate, ALPN gatehouse-app-service/1), forwards the header
// with the user's certificate, and from then on relays bytes unchanged, the app service's reply
// line first. The proxy writes a reply itself only for its own refusals; every decision about
// access (locks, roles, device trust) is the app service's (docs/app-access.md "The path").
import type * as tls from 'node:tls';
import { ALPN_APP_SERVICE } from '../../src-shared/cert-fields.ts';
import {
  readAppRouteRequest,
  writeAppHeaderLine,
  type AppForwardedHeader,
  type AppKind,
} from '../../src-shared/app-route.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { appRouteProblem } from '../auth/cert-route.ts';
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

export interface RoutableApp {
  name: string;
  /** From spec.uri: "tcp" for tcp://, else "http" (src-shared/app-route.ts appKindOfUri). */
  kind: AppKind;
}

/** An app service running in the proxy's own process (the single-process daemon). */
export interface InProcessAppService {
  /** Takes over the client's paused connection as if it had come over the mutual-TLS leg with `header`. */
  acceptFromProxy(stream: tls.TLSSocket, header: AppForwardedHeader): void;
}

export interface AppRouteBackends {
  findApp(name: string): Promise<RoutableApp | undefined>;
  /** A live app service serving the app; undefined when none is online. */
  appServiceFor(name: string): Promise<RoutableService | undefined>;
  /** The proxy's host identity toward app services and the host CA(s) they are checked against. */
  hostTls(): ServiceHostTls;
  /**
   * The app service of that name when it runs in this process: the connection is handed to it
   * in-process, which saves a loopback TLS leg (two encryptions and decryptions of every byte).
   */
  inProcessAppService?(name: string): InProcessAppService | undefined;
}

export interface AppRouteContext extends ServiceRouteContext {
  /** What the ALPN asked for: gatehouse-app → "http", gatehouse-tcp → "tcp". */
  kind: AppKind;
  backends: AppRouteBackends | undefined;
}

const KIND_WORDS: Record<AppKind, string> = { http: 'an HTTP app', tcp: 'a TCP app' };

/**
 * The client's identity; an expired certificate becomes CERT_EXPIRED, which the gateway and the
 * denial page turn into "log in again" (a route certificate lives 1 h, a login longer).
 */
function appClientIdentity(ctx: AppRouteContext): TlsIdentity {
  try {
    return ctx.clientIdentity(ctx.socket);
  } catch (e) {
    if (String(ctx.socket.authorizationError) === 'CERT_HAS_EXPIRED') {
      throw new GatehouseError(ErrorCode.CERT_EXPIRED, 'the app certificate has expired; log in again');
    }
    throw e;
  }
}

function dialAppService(ctx: AppRouteContext, service: RoutableService, app: string): Promise<tls.TLSSocket> {
  return dialService(ctx, {
    hostTls: ctx.backends!.hostTls(),
    service,
    alpn: ALPN_APP_SERVICE,
    role: 'app',
    unreachable: (why) =>
      new GatehouseError(
        ErrorCode.APP_UNREACHABLE,
        `app service "${service.name}" for app "${app}" at ${service.address} is unreachable: ${why}`,
      ),
  });
}

/** One app connection (one gateway connection) through the proxy; never throws (refusals go back as a reply line). */
export async function relayAppRoute(ctx: AppRouteContext): Promise<void> {
  const { socket, log } = ctx;
  let app: string | undefined;
  try {
    // The certificate first: an anonymous client learns nothing, not even whether a header parses.
    appClientIdentity(ctx);
    if (!ctx.backends) throw new GatehouseError(ErrorCode.APP_UNREACHABLE, 'this proxy does not route apps');
    app = (await readAppRouteRequest(socket)).app;
    const identity = appClientIdentity(ctx);
    const problem = appRouteProblem(identity.route, app);
    if (problem) throw new GatehouseError(ErrorCode.ACCESS_DENIED, problem);
    const found = await ctx.backends.findApp(app);
    if (!found) throw new GatehouseError(ErrorCode.APP_NOT_FOUND, `app "${app}" not found`);
    if (found.kind !== ctx.kind) {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `app "${app}" is ${KIND_WORDS[found.kind]}, not ${KIND_WORDS[ctx.kind]}; connect through its own gateway`,
      );
    }
    const service = await ctx.backends.appServiceFor(app);
    if (!service) throw new GatehouseError(ErrorCode.APP_UNREACHABLE, `no app service serving app "${app}" is online`);
    const forwarded: AppForwardedHeader = {
      app,
      kind: found.kind,
      user_cert_pem: peerCertPem(socket),
      client_addr: clientAddress(socket),
    };
    const local = ctx.backends.inProcessAppService?.(service.name);
    if (local) {
      log.info('app handed over in-process', { user: identity.user, app, kind: found.kind, app_service: service.name });
      local.acceptFromProxy(socket, forwarded);
      return;
    }
    const upstream = await dialAppService(ctx, service, app);
    ctx.track(upstream);
    writeAppHeaderLine(upstream, forwarded);
    log.info('app relay started', { user: identity.user, app, kind: found.kind, app_service: service.name });
    relayToService(socket, upstream);
  } catch (e) {
    refuseRoute(socket, e, log, 'app relay refused', { app });
  }
}
