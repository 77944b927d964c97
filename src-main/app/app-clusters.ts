// The clusters the desktop app knows (<home>/app-clusters.json): what the user added, which one
// is selected, and which user's login is the session for each. The profiles and CA pins the
// core keeps stay where they are; this file only adds what the app shows and chooses.
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { readJsonIfExists, writeFileAtomic } from '../core/files.ts';
import { MAX_PROXIES_PER_PROFILE } from '../core/proxy-address.ts';

export const APP_CLUSTERS_FILE = 'app-clusters.json';

const EntrySchema = z.object({
  /** Canonical "host:port": the cluster's first proxy, which keys it, its session and its CA pin. */
  proxy: z.string().min(1),
  /** All of the cluster's proxies, `proxy` first, when it was added with several (failover order). */
  proxies: z.array(z.string().min(1)).min(2).max(MAX_PROXIES_PER_PROFILE).optional(),
  clusterName: z.string(),
  secondFactor: z.string(),
  addedAt: z.string(),
  /** Whose profile is this cluster's session; absent when logged out. */
  user: z.string().optional(),
});
export type AppClusterEntry = z.infer<typeof EntrySchema>;

const FileSchema = z.object({
  version: z.literal(1),
  clusters: z.array(EntrySchema),
  current: z.string().optional(),
});
type AppClustersFile = z.infer<typeof FileSchema>;

export class AppClusterStore {
  readonly path: string;

  constructor(home: string) {
    this.path = join(home, APP_CLUSTERS_FILE);
  }

  list(): AppClusterEntry[] {
    return this.read().clusters;
  }

  get(proxy: string): AppClusterEntry | undefined {
    return this.read().clusters.find((c) => c.proxy === proxy);
  }

  /** The entry or NOT_FOUND telling the user to add the cluster first. */
  require(proxy: string): AppClusterEntry {
    const c = this.get(proxy);
    if (!c) {
      throw new GatehouseError(ErrorCode.NOT_FOUND, `the cluster at ${proxy} has not been added; add it first`, {
        proxy,
      });
    }
    return c;
  }

  current(): string | undefined {
    return this.read().current;
  }

  /**
   * Adds an entry or refreshes its cluster facts, keeping when it was added and its session user;
   * the proxy list is the one given (none: the cluster has one proxy now).
   */
  upsert(entry: Omit<AppClusterEntry, 'user'>): AppClusterEntry {
    return this.update((f) => {
      const i = f.clusters.findIndex((c) => c.proxy === entry.proxy);
      const earlier = f.clusters[i];
      let next: AppClusterEntry = entry;
      if (earlier) {
        const { proxies: _replaced, ...kept } = earlier;
        next = { ...kept, ...entry, addedAt: earlier.addedAt };
      }
      if (i >= 0) f.clusters[i] = next;
      else f.clusters.push(next);
      // The first cluster added is the one the app opens on.
      f.current ??= entry.proxy;
      return next;
    });
  }

  setUser(proxy: string, user: string | undefined): void {
    this.update((f) => {
      const c = f.clusters.find((x) => x.proxy === proxy);
      if (!c) return;
      if (user === undefined) delete c.user;
      else c.user = user;
    });
  }

  select(proxy: string): void {
    this.update((f) => {
      if (!f.clusters.some((c) => c.proxy === proxy)) {
        throw new GatehouseError(ErrorCode.NOT_FOUND, `the cluster at ${proxy} has not been added`, { proxy });
      }
      f.current = proxy;
    });
  }

  /** Forgets a cluster; when it was selected, the next one left (if any) becomes current. */
  remove(proxy: string): boolean {
    return this.update((f) => {
      const before = f.clusters.length;
      f.clusters = f.clusters.filter((c) => c.proxy !== proxy);
      if (f.current === proxy) {
        const next = f.clusters[0]?.proxy;
        if (next) f.current = next;
        else delete f.current;
      }
      return f.clusters.length !== before;
    });
  }

  private read(): AppClustersFile {
    const raw = readJsonIfExists(this.path);
    if (raw === undefined) return { version: 1, clusters: [] };
    const r = FileSchema.safeParse(raw);
    if (!r.success) {
      throw new GatehouseError(
        ErrorCode.STORAGE,
        `${this.path} is damaged; remove it and add your clusters again (logins are kept)`,
        { path: this.path },
      );
    }
    return r.data;
  }

  /** Read-modify-write; synchronous, so concurrent async callers cannot interleave inside it. */
  private update<T>(fn: (f: AppClustersFile) => T): T {
    const f = this.read();
    const out = fn(f);
    writeFileAtomic(this.path, JSON.stringify(f, null, 2) + '\n');
    return out;
  }
}
