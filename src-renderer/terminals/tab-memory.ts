// What was open, per cluster, so a page reload or an app restart can offer to open it again:
// terminal tabs (proxy, node, login) and gateways (kind, target, local port) — descriptors only,
// never a secret (no terminal ids, no certificates, no tokens). Kept in the renderer's
// localStorage (the window's own origin), one key per cluster, written as the tabs change.
import type { GatewaySummary } from '../../src-main/ipc/contract.ts';
import type { TerminalTab } from '../stores/terminals-store.ts';

export type TabDescriptor =
  | { kind: 'terminal'; proxy: string; node: string; login: string }
  | {
      kind: 'db-gateway';
      proxy: string;
      database: string;
      protocol: 'postgres' | 'mysql';
      dbUser: string;
      dbName?: string;
      port: number;
    }
  | { kind: 'app-gateway'; proxy: string; app: string; port: number };

/** The part of the Web Storage API used (localStorage in the window, a Map-backed fake in tests). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** More than this many remembered tabs per cluster are dropped (a reopen must stay one click's worth). */
export const MAX_REMEMBERED_TABS = 20;
const KEY_PREFIX = 'gatehouse.openTabs.';
const keyOf = (proxy: string) => `${KEY_PREFIX}${proxy}`;

/** The descriptors of the open tabs (terminals, then gateways), per cluster. Client tabs (psql) are left out: they follow their gateway. */
export function describeTabs(
  terminals: readonly TerminalTab[],
  gateways: readonly GatewaySummary[],
): Map<string, TabDescriptor[]> {
  const byProxy = new Map<string, TabDescriptor[]>();
  const add = (d: TabDescriptor) => byProxy.set(d.proxy, [...(byProxy.get(d.proxy) ?? []), d]);
  for (const t of terminals) if (!t.gatewayId) add({ kind: 'terminal', proxy: t.proxy, node: t.node, login: t.login });
  for (const g of gateways) {
    if (g.kind === 'db')
      add({
        kind: 'db-gateway',
        proxy: g.proxy,
        database: g.database,
        protocol: g.protocol,
        dbUser: g.dbUser,
        ...(g.dbName ? { dbName: g.dbName } : {}),
        port: g.localPort,
      });
    else add({ kind: 'app-gateway', proxy: g.proxy, app: g.app, port: g.localPort });
  }
  return byProxy;
}

/** Same tab target (a gateway's port may differ after it was re-opened on another one). */
export function sameTarget(a: TabDescriptor, b: TabDescriptor): boolean {
  if (a.proxy !== b.proxy || a.kind !== b.kind) return false;
  if (a.kind === 'terminal' && b.kind === 'terminal') return a.node === b.node && a.login === b.login;
  if (a.kind === 'db-gateway' && b.kind === 'db-gateway')
    return a.database === b.database && a.dbUser === b.dbUser && a.dbName === b.dbName;
  return a.kind === 'app-gateway' && b.kind === 'app-gateway' && a.app === b.app;
}

const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
const port = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536;

/** One stored entry, checked: storage is another program's to write to, a bad entry is skipped. */
function parseDescriptor(v: unknown, proxy: string): TabDescriptor | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const d = v as Record<string, unknown>;
  if (d['proxy'] !== proxy) return undefined;
  if (d['kind'] === 'terminal' && text(d['node']) && text(d['login']))
    return { kind: 'terminal', proxy, node: d['node'], login: d['login'] };
  if (d['kind'] === 'app-gateway' && text(d['app']) && port(d['port']))
    return { kind: 'app-gateway', proxy, app: d['app'], port: d['port'] };
  const protocol = d['protocol'];
  if (
    d['kind'] === 'db-gateway' &&
    text(d['database']) &&
    text(d['dbUser']) &&
    (protocol === 'postgres' || protocol === 'mysql') &&
    port(d['port']) &&
    (d['dbName'] === undefined || text(d['dbName']))
  )
    return {
      kind: 'db-gateway',
      proxy,
      database: d['database'],
      protocol,
      dbUser: d['dbUser'],
      ...(text(d['dbName']) ? { dbName: d['dbName'] } : {}),
      port: d['port'],
    };
  return undefined;
}

/** Reads and writes the remembered tabs; a storage that throws (quota, disabled) only loses the memory. */
export class TabMemory {
  /** What was last written per cluster: tab state changes often (a gateway's connection count), the list seldom. */
  private readonly written = new Map<string, string>();

  constructor(
    private readonly storage: KeyValueStorage,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  read(proxy: string): TabDescriptor[] {
    let raw: string | null;
    try {
      raw = this.storage.getItem(keyOf(proxy));
    } catch (e) {
      this.warn(`reading remembered tabs: ${(e as Error).message}`);
      return [];
    }
    if (!raw) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return [];
    }
    if (!Array.isArray(parsed)) return [];
    return parsed
      .map((v) => parseDescriptor(v, proxy))
      .filter((d): d is TabDescriptor => d !== undefined)
      .slice(0, MAX_REMEMBERED_TABS);
  }

  write(proxy: string, tabs: readonly TabDescriptor[]): void {
    const json = JSON.stringify(tabs.slice(0, MAX_REMEMBERED_TABS));
    if (this.written.get(proxy) === json) return;
    try {
      if (tabs.length === 0) this.storage.removeItem(keyOf(proxy));
      else this.storage.setItem(keyOf(proxy), json);
      this.written.set(proxy, json);
    } catch (e) {
      this.warn(`remembering tabs: ${(e as Error).message}`);
    }
  }
}
