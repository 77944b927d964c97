// The desktop app's gateways: local listeners for the clusters the user is logged in to. The
// gateway machinery (src-main/gateways/) knows nothing of sessions or the UI; this service ties
// each gateway to one cluster's session, so every new connection uses that session's current
// certificates (a re-login is picked up, an expired session refuses with CERT_EXPIRED), logging
// out of the cluster closes its gateways, and the app quitting closes them all. Gateways live
// here in main, not in a window: a renderer reload lists them again (`gateways.list`).
//
// Ids are the app's own ("g1", …) and stay when a gateway moves to another port (a new
// listener replaces the old one), so the renderer's tab keeps following it.
//
// Two kinds are shown to the renderer: database gateways (psql / mariadb) and app gateways (a
// browser at http://localhost:PORT/ for web apps, any client at 127.0.0.1:PORT for TCP apps).
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { GatehouseClient } from '../core/gatehouse-client.ts';
import type { GatewayInfo } from '../gateways/gateway.ts';
import { profileRouteAccess, type GatewayService, type RouteAccess } from '../gateways/gateway-service.ts';
import type { GatewayRoute } from '../gateways/route.ts';
import type {
  AppGatewaySummary,
  AppSummary,
  DbGatewaySummary,
  DbProtocol,
  GatewaySummary,
  RequestResults,
} from '../ipc/contract.ts';
import { appGatewayUrl, appRoute, type AppTarget, type OpenAppGatewayInput } from './app-gateway-target.ts';
import { clientProgramName, displayedClientCommand, runnableClientCommand } from './db-client-command.ts';
import type { AppEvents } from './events.ts';
import { canonicalProxy, type Sessions } from './sessions.ts';
import type { TerminalsService } from './terminals-service.ts';

export interface OpenGatewayInput {
  proxy: string;
  route: GatewayRoute;
  localPort?: number;
}

export interface AppGatewayInfo extends GatewayInfo {
  proxy: string;
}

export interface OpenDbGatewayInput {
  proxy: string;
  database: string;
  protocol: DbProtocol;
  dbUser: string;
  dbName?: string;
  port?: number;
}

/** How often live connection counts are compared for `gateways.status` (LocalGateway has no event for them). */
export const GATEWAY_STATUS_POLL_MS = 1000;

interface DbTarget {
  database: string;
  protocol: DbProtocol;
  dbUser: string;
  dbName?: string;
}

interface Entry {
  id: string;
  proxy: string;
  route: GatewayRoute;
  /** The GatewayService id of the listener serving this gateway now. */
  serviceId: string;
  db?: DbTarget;
  app?: AppTarget;
  /** The client program the tab names (the installed one, looked up once when the gateway opened). */
  clientProgram?: string;
  lastRefusal?: GatewaySummary['lastRefusal'];
  reportedConnections: number;
  stopWatching(): void;
}

export interface AppGatewaysDeps {
  core: Pick<GatehouseClient, 'proxyAccess'>;
  sessions: Pick<Sessions, 'require'>;
  gateways: GatewayService;
  events?: Pick<AppEvents, 'emit'>;
  terminals?: Pick<TerminalsService, 'openLocal'>;
  /** Who the user is at `proxy` for a route, read per connection (default: the session's login). */
  routeAccess?: (proxy: string) => RouteAccess;
  clock?: () => Date;
  statusPollMs?: number;
  /** PATH searched for psql / mariadb (default: the app's). */
  searchPath?: string;
  /** The app as the cluster lists it for this user (its kind picks the route); undefined: not there or not allowed. */
  findApp?: (proxy: string, name: string) => Promise<AppSummary | undefined>;
  /**
   * Opens a local URL in the user's browser (Electron: shell.openExternal). Absent in the browser
   * host: there the renderer is a browser tab and opens the URL itself.
   */
  openLocalUrl?: (url: string) => Promise<void>;
}

/** The db route for a gateway: user and database pinned; the protocol picks the ALPN and the front. */
export function dbRoute(t: DbTarget): GatewayRoute {
  return {
    kind: 'db',
    name: t.database,
    user: t.dbUser,
    ...(t.dbName !== undefined ? { database: t.dbName } : {}),
    protocol: t.protocol,
  };
}

/**
 * A refusal as the tab shows it. The db service says "unauthorized device" for device trust; it
 * gets the device code so the app shows the same remedy as an SSH session refused for it.
 */
export function refusalOf(e: GatehouseError, at: Date): NonNullable<GatewaySummary['lastRefusal']> {
  const code = /\bunauthorized device\b/.test(e.message) ? ErrorCode.DEVICE_UNTRUSTED : e.code;
  return { code, message: e.message, at: at.toISOString() };
}

export class AppGateways {
  private readonly entries = new Map<string, Entry>();
  private nextId = 1;
  private poller: NodeJS.Timeout | undefined;

  constructor(private readonly deps: AppGatewaysDeps) {}

  /** Checks the session now (NOT_LOGGED_IN / CERT_EXPIRED are answered here), then listens. */
  async open(input: OpenGatewayInput): Promise<AppGatewayInfo> {
    const entry = await this.start(canonicalProxy(input.proxy), input.route, input.localPort);
    return { ...this.infoOf(entry), id: entry.id, proxy: entry.proxy };
  }

  /** A gateway to a database for stock clients (psql, mariadb) on 127.0.0.1. */
  async openDb(input: OpenDbGatewayInput): Promise<DbGatewaySummary> {
    const db: DbTarget = {
      database: input.database,
      protocol: input.protocol,
      dbUser: input.dbUser,
      ...(input.dbName !== undefined ? { dbName: input.dbName } : {}),
    };
    const entry = await this.start(canonicalProxy(input.proxy), dbRoute(db), input.port, { db });
    const summary = this.dbSummaryOf(entry as Entry & { db: DbTarget });
    this.deps.events?.emit('gateways.status', summary);
    return summary;
  }

  /**
   * A gateway to an app. The app is looked up first (APP_NOT_FOUND when the roles do not show it),
   * which also says its kind; a gateway already open for the same app (and port, when one is asked
   * for) is returned instead of a second one, so Launch twice reuses the tab.
   */
  async openApp(input: OpenAppGatewayInput): Promise<AppGatewaySummary> {
    const proxy = canonicalProxy(input.proxy);
    this.deps.sessions.require(proxy);
    const open = [...this.entries.values()].find(
      (e) =>
        e.proxy === proxy &&
        e.app?.app === input.app &&
        (input.port === undefined || this.infoOf(e).localPort === input.port),
    );
    if (open) return this.appSummaryOf(open as Entry & { app: AppTarget });
    const found = await this.deps.findApp?.(proxy, input.app);
    if (!found) {
      throw new GatehouseError(ErrorCode.APP_NOT_FOUND, `there is no app "${input.app}" you may reach in ${proxy}`, {
        app: input.app,
      });
    }
    const app: AppTarget = { app: found.name, appKind: found.kind };
    const entry = await this.start(proxy, appRoute(app), input.port, { app });
    const summary = this.appSummaryOf(entry as Entry & { app: AppTarget });
    this.deps.events?.emit('gateways.status', summary);
    return summary;
  }

  /** Opens an HTTP app's gateway in the browser (when main can), and says where. */
  async launchApp(id: string): Promise<RequestResults['gateways.launchApp']> {
    const entry = this.entries.get(id);
    if (!entry) throw unknownGateway(id);
    if (entry.app?.appKind !== 'http') {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `gateway "${id}" is not a web app's: there is nothing to open`);
    }
    const url = appGatewayUrl(this.infoOf(entry).localPort);
    if (!this.deps.openLocalUrl) return { url, opened: false };
    await this.deps.openLocalUrl(url);
    return { url, opened: true };
  }

  list(): AppGatewayInfo[] {
    return [...this.entries.values()].map((e) => ({ ...this.infoOf(e), id: e.id, proxy: e.proxy }));
  }

  /** The database and app gateways as the renderer shows them. */
  summaries(): GatewaySummary[] {
    return [...this.entries.values()].flatMap((e) => {
      const summary = this.summaryOf(e);
      return summary ? [summary] : [];
    });
  }

  /**
   * Moves a gateway to another local port: the new listener opens first, so a taken port is a
   * CONFLICT that leaves the gateway where it was; then the old one closes with its connections.
   */
  async setPort(id: string, port: number): Promise<GatewaySummary> {
    const entry = this.shownEntry(id);
    if (this.infoOf(entry).localPort === port) return this.summaryOf(entry)!;
    const info = await this.deps.gateways.create({
      route: entry.route,
      localPort: port,
      access: this.accessFor(entry.proxy),
    });
    const oldServiceId = entry.serviceId;
    entry.stopWatching();
    entry.serviceId = info.id;
    entry.reportedConnections = 0;
    entry.stopWatching = this.watch(entry);
    await this.deps.gateways.close(oldServiceId);
    const summary = this.summaryOf(entry)!;
    this.deps.events?.emit('gateways.status', summary);
    return summary;
  }

  /** Opens a terminal running psql / mariadb against the gateway; the command is built here. */
  runClient(id: string, cols: number, rows: number): RequestResults['gateways.runClient'] {
    const entry = this.dbEntry(id);
    if (!this.deps.terminals) throw new GatehouseError(ErrorCode.INTERNAL, 'this app runs no local terminals');
    const command = runnableClientCommand(this.targetOf(entry), this.deps.searchPath);
    return this.deps.terminals.openLocal({ proxy: entry.proxy, file: command.file, args: command.args, cols, rows });
  }

  async close(id: string): Promise<null> {
    const entry = this.entries.get(id);
    if (!entry) throw unknownGateway(id);
    this.entries.delete(id);
    entry.stopWatching();
    this.stopPollingIfIdle();
    await this.deps.gateways.close(entry.serviceId);
    this.deps.events?.emit('gateways.closed', { gatewayId: id });
    return null;
  }

  /** Logging out of a cluster ends its gateways and their live connections. */
  async closeAllFor(proxy: string): Promise<void> {
    const ids = [...this.entries.values()].filter((e) => e.proxy === proxy).map((e) => e.id);
    await Promise.all(ids.map((id) => this.close(id)));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.close(id)));
    await this.deps.gateways.closeAll();
  }

  private async start(
    proxy: string,
    route: GatewayRoute,
    localPort?: number,
    target: { db?: DbTarget; app?: AppTarget } = {},
  ): Promise<Entry> {
    const { db, app } = target;
    this.deps.sessions.require(proxy);
    const info = await this.deps.gateways.create({
      route,
      ...(localPort !== undefined ? { localPort } : {}),
      access: this.accessFor(proxy),
    });
    const id = `g${this.nextId++}`;
    const entry: Entry = {
      id,
      proxy,
      route,
      serviceId: info.id,
      ...(db ? { db, clientProgram: clientProgramName(db.protocol, this.deps.searchPath) } : {}),
      ...(app ? { app } : {}),
      reportedConnections: 0,
      stopWatching: () => {},
    };
    entry.stopWatching = this.watch(entry);
    this.entries.set(id, entry);
    this.startPolling();
    return entry;
  }

  private accessFor(proxy: string): () => RouteAccess {
    const { core, sessions, routeAccess } = this.deps;
    return () => (routeAccess ? routeAccess(proxy) : profileRouteAccess(core.proxyAccess(sessions.require(proxy))));
  }

  /** Records each refusal with its time and tells the renderer. */
  private watch(entry: Entry): () => void {
    return this.deps.gateways.get(entry.serviceId).onRefused((e) => {
      entry.lastRefusal = refusalOf(e, this.deps.clock?.() ?? new Date());
      const summary = this.entries.has(entry.id) ? this.summaryOf(entry) : undefined;
      if (summary) this.deps.events?.emit('gateways.status', summary);
    });
  }

  private startPolling(): void {
    if (this.poller || !this.deps.events) return;
    this.poller = setInterval(() => this.reportConnectionChanges(), this.deps.statusPollMs ?? GATEWAY_STATUS_POLL_MS);
    this.poller.unref();
  }

  private stopPollingIfIdle(): void {
    if (this.entries.size > 0 || !this.poller) return;
    clearInterval(this.poller);
    this.poller = undefined;
  }

  private reportConnectionChanges(): void {
    for (const entry of this.entries.values()) {
      const summary = this.summaryOf(entry);
      if (!summary || summary.connections === entry.reportedConnections) continue;
      entry.reportedConnections = summary.connections;
      this.deps.events?.emit('gateways.status', summary);
    }
  }

  private infoOf(entry: Entry): GatewayInfo {
    return this.deps.gateways.get(entry.serviceId).info();
  }

  /** A gateway the renderer shows (db or app); NOT_FOUND for an unknown id. */
  private shownEntry(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw unknownGateway(id);
    if (!entry.db && !entry.app) throw new GatehouseError(ErrorCode.BAD_REQUEST, `gateway "${id}" is not shown here`);
    return entry;
  }

  private dbEntry(id: string): Entry & { db: DbTarget } {
    const entry = this.entries.get(id);
    if (!entry) throw unknownGateway(id);
    if (!entry.db) throw new GatehouseError(ErrorCode.BAD_REQUEST, `gateway "${id}" is not a database gateway`);
    return entry as Entry & { db: DbTarget };
  }

  private targetOf(entry: Entry & { db: DbTarget }) {
    const info = this.infoOf(entry);
    return { ...entry.db, localAddress: info.localAddress, localPort: info.localPort };
  }

  /** The renderer's view of a db or app gateway; undefined for a gateway it does not show. */
  private summaryOf(entry: Entry): GatewaySummary | undefined {
    if (entry.db) return this.dbSummaryOf(entry as Entry & { db: DbTarget });
    if (entry.app) return this.appSummaryOf(entry as Entry & { app: AppTarget });
    return undefined;
  }

  private appSummaryOf(entry: Entry & { app: AppTarget }): AppGatewaySummary {
    const info = this.infoOf(entry);
    return {
      id: entry.id,
      proxy: entry.proxy,
      kind: 'app',
      app: entry.app.app,
      appKind: entry.app.appKind,
      ...(entry.app.appKind === 'http' ? { url: appGatewayUrl(info.localPort) } : {}),
      localAddress: info.localAddress,
      localPort: info.localPort,
      connections: info.connections,
      ...(entry.lastRefusal ? { lastRefusal: entry.lastRefusal } : {}),
    };
  }

  private dbSummaryOf(entry: Entry & { db: DbTarget }): DbGatewaySummary {
    const db = entry.db;
    const info = this.infoOf(entry);
    const target = this.targetOf(entry);
    return {
      id: entry.id,
      proxy: entry.proxy,
      kind: 'db',
      database: db.database,
      protocol: db.protocol,
      dbUser: db.dbUser,
      ...(db.dbName !== undefined ? { dbName: db.dbName } : {}),
      localAddress: info.localAddress,
      localPort: info.localPort,
      connections: info.connections,
      clientCommand: displayedClientCommand(
        entry.clientProgram ?? clientProgramName(db.protocol, this.deps.searchPath),
        target,
      ),
      ...(entry.lastRefusal ? { lastRefusal: entry.lastRefusal } : {}),
    };
  }
}

export function unknownGateway(id: string): GatehouseError {
  return new GatehouseError(ErrorCode.NOT_FOUND, `there is no gateway "${id}"`, { gatewayId: id });
}
