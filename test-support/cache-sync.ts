// Test-only: waiting until a change made through auth has reached every joined service that
// decides from its own copy of auth's resources (src-cluster/service/resource-cache.ts). A
// `gatectl` write returns once auth has stored the change; a proxy or node applies it later, off
// its watch stream (on the ha topology, after PostgreSQL's change feed has carried it to the other
// auth server first). A test that acts on the change at once — `gate ssh` right after a lock — races
// that stream, and loses when the machine is busy. So the harnesses start their service
// processes with --debug, each cache logs every change it applies, and tests wait for that line
// from every process concerned before relying on the change. Imports neither src-main nor
// src-cluster (lint keeps those two sides apart).

/** One change as a cache applies it: "put" (created or changed) or "delete" (removed or expired). */
export interface CacheChange {
  kind: string;
  name: string;
  type: 'put' | 'delete';
}

/**
 * How long the copies may take to apply a change before the wait fails: generous, since the
 * tests share a loaded 2-core machine (issue 17 saw a cross-server lock take 6.5 s at load 30-45).
 */
export const CACHE_APPLY_TIMEOUT_MS = 60_000;

/** Only the proxy routes, so only proxies keep nodes (resource-cache.ts: cachedKindsFor). */
const PROXY_ONLY_KINDS = new Set(['node', 'db', 'db_server', 'app', 'app_server']);

/** The labels among `proxies` and `nodes` whose cache holds `kind`. */
export function cacheHolders(kind: string, proxies: readonly string[], nodes: readonly string[]): string[] {
  return PROXY_ONLY_KINDS.has(kind) ? [...proxies] : [...proxies, ...nodes];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The line `[label] <time> DEBUG [cache] resource cache applied kind=K name=N type=T` (src-shared/logger.ts text format). */
export function cacheAppliedLine(label: string, change: CacheChange): RegExp {
  const name = /[\s"=]/.test(change.name) ? JSON.stringify(change.name) : change.name;
  return new RegExp(
    `^\\[${escapeRegExp(label)}\\] \\S+ DEBUG +\\[cache\\] resource cache applied ` +
      `kind=${escapeRegExp(change.kind)} name=${escapeRegExp(name)} type=${change.type}$`,
    'm',
  );
}

/**
 * Resolves once each of `labels` has logged applying `change` in the log after offset `from`
 * (taken before the write); fails naming the processes that had not, with their log.
 */
export async function awaitCachesApplied(
  logs: () => string,
  labels: readonly string[],
  change: CacheChange,
  from: number,
  timeoutMs = CACHE_APPLY_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const since = logs().slice(from);
    const missing = labels.filter((label) => !cacheAppliedLine(label, change).test(since));
    if (missing.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${missing.join(', ')} did not apply ${change.type} ${change.kind}/${change.name} within ${timeoutMs} ms ` +
          `(no "resource cache applied" line); the log since the change:\n${since}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
