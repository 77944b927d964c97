// The main process's gateways: create one for a route, list them, close one or all. Composed once
// per app (src-main/app/compose.ts) or per `gate proxy` run — no module-level registry, so two
// composed apps (as in tests) never share a listener. Each connection asks `access` afresh, so a
// gateway keeps working across a re-login (new certificate) without being recreated.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { TlsContextCache } from '../../src-shared/tls-contexts.ts';
import type { TlsFailureExplainer } from '../core/api-errors.ts';
import type { ProfileAccess } from '../core/gatehouse-client.ts';
import type { ProxyAddress } from '../core/proxy-address.ts';
import { ProxyFailover } from '../core/proxy-failover.ts';
import { renewalTime, type RouteCertificateRequest } from '../core/route-certs.ts';
import { silentLogger, type CoreLogger } from '../core/types.ts';
import { LocalGateway, type GatewayInfo, type RouteDialer } from './gateway.ts';
import { openProxyTunnel, TlsSessionTickets, type TlsClientCertificate } from './proxy-tunnel.ts';
import { builtinDbFronts, dbRouteProtocol, type DbClientFronts } from './db/db-route.ts';
import { appRouteProtocol } from './app/app-route.ts';
import { RouteCertificateKeeper } from './route-cert-keeper.ts';
import { RouteProtocols, validateRoute, type GatewayRoute } from './route.ts';
import { sshRouteProtocol } from './ssh/ssh-route.ts';

/**
 * The route protocols this build can open gateways for. A new kind of access adds its folder
 * (gateways/db/, gateways/app/, …) and one entry here. Tests may pass their own db fronts.
 */
export function builtinRouteProtocols(opts: { dbFronts?: DbClientFronts } = {}): RouteProtocols {
  return new RouteProtocols([
    sshRouteProtocol,
    dbRouteProtocol(opts.dbFronts ?? builtinDbFronts()),
    appRouteProtocol(),
  ]);
}

/** Gateways one app keeps open at once; each is a listening port. */
export const MAX_GATEWAYS = 32;

/** What a gateway needs to reach the proxy as the user: where, which CA to trust, which certificate. */
export interface RouteAccess {
  proxy: ProxyAddress;
  /** The login's other proxies (gate login --proxy a,b; the app's multi-proxy cluster), tried in order. */
  alternateProxies?: ProxyAddress[];
  proxyCaPem: string;
  /** The user's certificate for this route (a db route's is issued for it, so this may call the cluster). */
  certificateFor(route: GatewayRoute): Promise<TlsClientCertificate>;
  explainTls?: TlsFailureExplainer;
  timeoutMs?: number;
}

/**
 * A login profile's access as a gateway sees it, and the one place that picks the certificate
 * for a route: SSH uses the login's own X.509 certificate; db and app routes use a route
 * certificate the cluster issues for the login's key (cached by the client core, see
 * core/route-certs.ts), with its renewal time so a running gateway can renew it ahead.
 */
export function profileRouteAccess(access: ProfileAccess): RouteAccess {
  const certificate = { certPem: access.credentials.tlsCertificatePem, keyPem: access.credentials.key.privateKeyPem };
  return {
    proxy: access.proxy,
    ...(access.alternateProxies?.length ? { alternateProxies: access.alternateProxies } : {}),
    proxyCaPem: access.proxyCaPem,
    certificateFor: async (route) => {
      if (route.kind !== 'db' && route.kind !== 'app') return certificate;
      const issued = await access.routeCertificate(routeCertificateRequest(route));
      return {
        certPem: issued.certPem,
        keyPem: certificate.keyPem,
        renewAt: renewalTime(issued),
        expiresAt: issued.expiresAt,
      };
    },
    explainTls: access.explainTls,
    ...(access.timeoutMs ? { timeoutMs: access.timeoutMs } : {}),
  };
}

/** The route certificate a db or app route is opened with (the db user / db name pinned when given). */
function routeCertificateRequest(route: GatewayRoute): RouteCertificateRequest {
  if (route.kind === 'app') return { kind: 'app', name: route.name };
  return {
    kind: 'db',
    name: route.name,
    ...(route.user !== undefined ? { dbUser: route.user } : {}),
    ...(route.database !== undefined ? { dbName: route.database } : {}),
  };
}

/**
 * A tunnel opener for routes reached with `access` (read per connection, so it may change).
 * `certificates` gives the certificate per connection (a gateway's RouteCertificateKeeper);
 * default: ask `access` each time. Each connection starts at the proxy the gateway's last tunnel
 * went through and moves on by the SSH path's rules (core/proxy-failover.ts ProxyFailover).
 */
export function proxyRouteDialer(
  protocols: RouteProtocols,
  access: () => RouteAccess,
  certificates?: (route: GatewayRoute) => Promise<TlsClientCertificate>,
  logger?: CoreLogger,
): RouteDialer {
  // One per gateway: its connections present the same certificate until a re-login or renewal.
  const contexts = new TlsContextCache(4);
  const sessions = new TlsSessionTickets();
  const failover = new ProxyFailover(logger);
  return async (route, target) => {
    const protocol = protocols.forRoute(route);
    const header = protocol.header(route, target);
    const a = access();
    const client = await (certificates ? certificates(route) : a.certificateFor(route));
    const proxies = [a.proxy, ...(a.alternateProxies ?? []).filter((p) => p.address !== a.proxy.address)];
    return asDeviceRefusal(
      failover.dial(proxies, (proxy) =>
        openProxyTunnel({
          proxy,
          proxyCaPem: a.proxyCaPem,
          client,
          alpn: protocol.alpn(route),
          header,
          contexts,
          sessions,
          ...(a.explainTls ? { explainTls: a.explainTls } : {}),
          ...(a.timeoutMs ? { timeoutMs: a.timeoutMs } : {}),
        }),
      ),
    );
  };
}

/** The words the authorizer uses when access needs a trusted device (as the SSH node says it). */
export const UNAUTHORIZED_DEVICE = 'unauthorized device';

/**
 * A route refused for want of a trusted device gets DEVICE_UNTRUSTED, whatever code the service
 * sent it with, so the app and `gate` show the same remedy as for SSH; the words stay the service's.
 */
async function asDeviceRefusal<T>(opening: Promise<T>): Promise<T> {
  try {
    return await opening;
  } catch (e) {
    if (e instanceof GatehouseError && e.code === ErrorCode.ACCESS_DENIED && e.message.includes(UNAUTHORIZED_DEVICE)) {
      throw new GatehouseError(ErrorCode.DEVICE_UNTRUSTED, e.message, e.details);
    }
    throw e;
  }
}

export interface CreateGatewayInput {
  route: GatewayRoute;
  localPort?: number;
  /** Read at each connection: who the user is at which proxy right now (throws e.g. CERT_EXPIRED). */
  access: () => RouteAccess;
}

export class GatewayService {
  private readonly gateways = new Map<string, LocalGateway>();
  private readonly keepers = new Map<string, RouteCertificateKeeper>();
  private nextId = 1;

  constructor(
    private readonly deps: {
      protocols: RouteProtocols;
      logger?: CoreLogger;
      maxGateways?: number;
    },
  ) {}

  /** Validates the route (UNKNOWN_KIND for a kind this build cannot route), listens, and returns its info. */
  async create(input: CreateGatewayInput): Promise<GatewayInfo> {
    const route = validateRoute(input.route);
    const protocol = this.deps.protocols.forRoute(route);
    const max = this.deps.maxGateways ?? MAX_GATEWAYS;
    if (this.gateways.size >= max) {
      throw new GatehouseError(ErrorCode.RATE_LIMITED, `at most ${max} gateways can be open; close some`);
    }
    const id = `g${this.nextId++}`;
    const keeper = new RouteCertificateKeeper({
      route,
      access: input.access,
      ...(this.deps.logger ? { logger: this.deps.logger } : {}),
    });
    // An app gateway asks for its route certificate now, so a browser's first connection does
    // not wait for the cluster; a failure is not the caller's (each connection then says why,
    // as the denial page: the app shows that page rather than failing Launch).
    if (route.kind === 'app') {
      keeper.current().catch((e: Error) => {
        this.deps.logger?.warn('app route certificate not issued yet', { route: route.name, reason: e.message });
      });
    }
    const dial = proxyRouteDialer(this.deps.protocols, input.access, () => keeper.current(), this.deps.logger);
    const refusal = protocol.refusal?.(route);
    const gateway = new LocalGateway({
      id,
      route,
      dial,
      ...(protocol.front ? { front: protocol.front(route) } : {}),
      ...(refusal ? { refusal } : {}),
      logger: this.deps.logger ?? silentLogger,
      ...(input.localPort !== undefined ? { localPort: input.localPort } : {}),
    });
    let info: GatewayInfo;
    try {
      info = await gateway.start();
    } catch (e) {
      keeper.close();
      throw e;
    }
    this.gateways.set(id, gateway);
    this.keepers.set(id, keeper);
    return info;
  }

  list(): GatewayInfo[] {
    return [...this.gateways.values()].map((g) => g.info());
  }

  /** The gateway itself (to watch its refusals); NOT_FOUND for an unknown id. */
  get(id: string): LocalGateway {
    const g = this.gateways.get(id);
    if (!g) throw new GatehouseError(ErrorCode.NOT_FOUND, `no gateway "${id}"`, { id });
    return g;
  }

  /** Stops the gateway and ends its live connections. */
  async close(id: string): Promise<void> {
    const g = this.get(id);
    this.gateways.delete(id);
    this.keepers.get(id)?.close();
    this.keepers.delete(id);
    await g.close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.gateways.values()];
    this.gateways.clear();
    for (const k of this.keepers.values()) k.close();
    this.keepers.clear();
    await Promise.all(all.map((g) => g.close()));
  }
}
