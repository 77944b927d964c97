// What the user can reach on a cluster: its servers (SSH nodes) with the logins to offer for each,
// its databases with the db users / db names the roles allow, and its apps (web and TCP).
import { userInfo } from 'node:os';
import type { AppInfo, DatabaseInfo } from '../core/cluster-client.ts';
import type { AppKind, AppSummary, DatabaseSummary, DbProtocol, ServerSummary } from '../ipc/contract.ts';
import { canonicalProxy, type ClusterClients, type Sessions } from './sessions.ts';

/** The user's logins with the local OS user first when it is one of them (like ssh's default). */
export function orderLogins(logins: string[], localUser: string | undefined): string[] {
  const unique = [...new Set(logins)];
  if (!localUser || !unique.includes(localUser)) return unique;
  return [localUser, ...unique.filter((l) => l !== localUser)];
}

/** The OS user name, or undefined where the OS cannot say (no passwd entry in a container). */
export function localUserName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

export class ResourcesService {
  constructor(
    private readonly deps: {
      clients: ClusterClients;
      sessions: Sessions;
      localUser: string | undefined;
    },
  ) {}

  /**
   * The servers of a cluster. The logins are the session's (the cluster's roles decide which of
   * them a node accepts, and say so when a terminal opens).
   */
  async listServers(proxyInput: string): Promise<ServerSummary[]> {
    const proxy = canonicalProxy(proxyInput);
    const { clients, sessions } = this.deps;
    const profile = sessions.require(proxy);
    const nodes = await sessions.guard(proxy, async () => (await clients.get(proxy)).listNodes(profile));
    const logins = orderLogins(profile.logins, this.deps.localUser);
    return nodes.map((n) => ({
      name: n.name,
      address: n.address,
      hostname: n.hostname,
      labels: { ...n.labels },
      logins: [...logins],
    }));
  }

  /** The databases of a cluster the roles let the user see; a protocol this app cannot speak is left out. */
  async listDatabases(proxyInput: string): Promise<DatabaseSummary[]> {
    const proxy = canonicalProxy(proxyInput);
    const { clients, sessions } = this.deps;
    const profile = sessions.require(proxy);
    const databases = await sessions.guard(proxy, async () => (await clients.get(proxy)).listDatabases(profile));
    return databases.flatMap((d) => {
      const protocol = dbProtocolOf(d);
      return protocol ? [{ ...d, protocol, labels: { ...d.labels } }] : [];
    });
  }

  /** The apps of a cluster the roles let the user see (app_labels); a kind this app cannot open is left out. */
  async listApps(proxyInput: string): Promise<AppSummary[]> {
    const proxy = canonicalProxy(proxyInput);
    const { clients, sessions } = this.deps;
    const profile = sessions.require(proxy);
    const apps = await sessions.guard(proxy, async () => (await clients.get(proxy)).listApps(profile));
    return apps.flatMap((a) => {
      const kind = appKindOf(a);
      return kind ? [{ ...a, kind, labels: { ...a.labels } }] : [];
    });
  }
}

/** "http" | "tcp", or undefined for a kind a newer cluster added that this app cannot open. */
export function appKindOf(a: Pick<AppInfo, 'kind'>): AppKind | undefined {
  return a.kind === 'http' || a.kind === 'tcp' ? a.kind : undefined;
}

/** "postgres" | "mysql", or undefined for a protocol a newer cluster added and this app cannot route. */
export function dbProtocolOf(d: Pick<DatabaseInfo, 'protocol'>): DbProtocol | undefined {
  return d.protocol === 'postgres' || d.protocol === 'mysql' ? d.protocol : undefined;
}
