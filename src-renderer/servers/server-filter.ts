// The "Search servers" box: every word must match. A word matches a server when it is part of
// the server's name, part of a label value, or, written `key=value`, equals one of its labels.
// Case never matters.
import type { ServerSummary } from '../../src-main/ipc/contract.ts';

export function serverMatches(server: ServerSummary, word: string): boolean {
  const w = word.toLowerCase();
  const labels = Object.entries(server.labels).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()] as const);
  const eq = w.indexOf('=');
  if (eq > 0) {
    const key = w.slice(0, eq);
    const value = w.slice(eq + 1);
    return labels.some(([k, v]) => k === key && v === value);
  }
  return server.name.toLowerCase().includes(w) || labels.some(([, v]) => v.includes(w));
}

export function filterServers(servers: readonly ServerSummary[], query: string): ServerSummary[] {
  const words = query.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...servers];
  return servers.filter((s) => words.every((w) => serverMatches(s, w)));
}

/** Servers by name, stable for equal names; the table's order. */
export function sortServers(servers: readonly ServerSummary[]): ServerSummary[] {
  return [...servers].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
}

/** Labels as `key=value` chips, sorted by key (the form the search box accepts). */
export function labelChips(labels: Record<string, string>): string[] {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`);
}
