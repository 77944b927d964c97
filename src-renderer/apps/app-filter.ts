// Apps in the resource browser: the search words (as for servers and databases: part of the name,
// description or a label value, or `key=value` equal to a label; kind words too: "web", "http",
// "tcp"), and how a kind is named in the table.
import type { AppKind, AppSummary } from '../../src-main/ipc/contract.ts';

const KIND_WORDS: Record<AppKind, string[]> = { http: ['http', 'https', 'web'], tcp: ['tcp'] };

/** How the table names a kind: what the person does with it differs (a browser, or any client). */
export const APP_KIND_NAMES: Record<AppKind, string> = { http: 'Web (HTTP)', tcp: 'TCP' };

export function appMatches(app: AppSummary, word: string): boolean {
  const w = word.toLowerCase();
  const labels = Object.entries(app.labels).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()] as const);
  const eq = w.indexOf('=');
  if (eq > 0) return labels.some(([k, v]) => k === w.slice(0, eq) && v === w.slice(eq + 1));
  return (
    app.name.toLowerCase().includes(w) ||
    app.description.toLowerCase().includes(w) ||
    app.publicAddr.toLowerCase().includes(w) ||
    KIND_WORDS[app.kind].some((k) => k.includes(w)) ||
    labels.some(([, v]) => v.includes(w))
  );
}

export function filterApps(apps: readonly AppSummary[], query: string): AppSummary[] {
  const words = query.trim().split(/\s+/).filter(Boolean);
  return apps.filter((a) => words.every((w) => appMatches(a, w)));
}
