// Databases in the resource browser: the search words (as for servers: part of the name or of a
// label value, or `key=value` equal to a label; protocol words too), and the choices the connect
// dialog offers from the roles' allowed db users / names ("*" = the person types one).
import type { DatabaseSummary } from '../../src-main/ipc/contract.ts';

export type ResourceKind = 'all' | 'servers' | 'databases' | 'apps';

const PROTOCOL_WORDS: Record<DatabaseSummary['protocol'], string[]> = {
  postgres: ['postgres', 'postgresql'],
  mysql: ['mysql', 'mariadb'],
};

export function databaseMatches(db: DatabaseSummary, word: string): boolean {
  const w = word.toLowerCase();
  const labels = Object.entries(db.labels).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()] as const);
  const eq = w.indexOf('=');
  if (eq > 0) return labels.some(([k, v]) => k === w.slice(0, eq) && v === w.slice(eq + 1));
  return (
    db.name.toLowerCase().includes(w) ||
    db.description.toLowerCase().includes(w) ||
    PROTOCOL_WORDS[db.protocol].some((p) => p.includes(w)) ||
    labels.some(([, v]) => v.includes(w))
  );
}

export function filterDatabases(databases: readonly DatabaseSummary[], query: string): DatabaseSummary[] {
  const words = query.trim().split(/\s+/).filter(Boolean);
  return databases.filter((d) => words.every((w) => databaseMatches(d, w)));
}

export function sortByName<T extends { name: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
}

/** How the dialog asks for a db user or db name: a list to pick from, free text, or nothing allowed. */
export type DbChoice = { kind: 'pick'; options: string[] } | { kind: 'type'; suggestions: string[] } | { kind: 'none' };

/** "*" anywhere in the allowed list means any value: the person types it (named entries are suggestions). */
export function dbChoice(allowed: readonly string[]): DbChoice {
  const named = [...new Set(allowed.filter((a) => a !== '*' && a !== ''))];
  if (allowed.includes('*')) return { kind: 'type', suggestions: named };
  return named.length ? { kind: 'pick', options: named } : { kind: 'none' };
}

export const PROTOCOL_NAMES: Record<DatabaseSummary['protocol'], string> = {
  postgres: 'PostgreSQL',
  mysql: 'MySQL',
};
