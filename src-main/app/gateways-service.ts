// The desktop app's gateways: local listeners for the clusters the user is logged in to. The
// gateway machinery (src-main/gateways/) knows nothing of sessions; this service ties each
// gateway to one cluster's session, so every new connection uses that session's current
// certificates (a re-login is picked up, an expired session refuses with CERT_EXPIRED) and
// logging out of the cluster closes its gateways.
import type { GatehouseClient } from '../core/gatehouse-client.ts';
import type { GatewayInfo } from '../gateways/gateway.ts';
import { profileRouteAccess, type GatewayService } from '../gateways/gateway-service.ts';
import type { GatewayRoute } from '../gateways/route.ts';
import { canonicalProxy, type Sessions } from './sessions.ts';

export interface OpenGatewayInput {
  proxy: string;
  route: GatewayRoute;
  localPort?: number;
}

export interface AppGatewayInfo extends GatewayInfo {
  proxy: string;
}

export class AppGateways {
  /** Gateway id → the cluster (canonical proxy address) whose session it uses. */
  private readonly proxyOf = new Map<string, string>();

  constructor(private readonly deps: { core: GatehouseClient; sessions: Sessions; gateways: GatewayService }) {}

  /** Checks the session now (NOT_LOGGED_IN / CERT_EXPIRED are answered here), then listens. */
  async open(input: OpenGatewayInput): Promise<AppGatewayInfo> {
    const proxy = canonicalProxy(input.proxy);
    const { core, sessions, gateways } = this.deps;
    sessions.require(proxy);
    const info = await gateways.create({
      route: input.route,
      ...(input.localPort !== undefined ? { localPort: input.localPort } : {}),
      access: () => profileRouteAccess(core.proxyAccess(sessions.require(proxy))),
    });
    this.proxyOf.set(info.id, proxy);
    return { ...info, proxy };
  }

  list(): AppGatewayInfo[] {
    return this.deps.gateways.list().flatMap((g) => {
      const proxy = this.proxyOf.get(g.id);
      return proxy ? [{ ...g, proxy }] : [];
    });
  }

  async close(id: string): Promise<null> {
    await this.deps.gateways.close(id);
    this.proxyOf.delete(id);
    return null;
  }

  /** Logging out of a cluster ends its gateways and their live connections. */
  async closeAllFor(proxy: string): Promise<void> {
    const ids = [...this.proxyOf].filter(([, p]) => p === proxy).map(([id]) => id);
    await Promise.all(ids.map((id) => this.close(id)));
  }

  async closeAll(): Promise<void> {
    await this.deps.gateways.closeAll();
    this.proxyOf.clear();
  }
}
