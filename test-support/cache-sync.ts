// Test-only: waiting until a change made through auth has reached every joined service that
// decides from its own copy of auth's resources (src-cluster/service/resource-cache.ts). A
// `gatectl` write returns once auth has stored the change; a proxy or node applies it later, off
// its watch stream (on the ha topology, after PostgreSQL's change feed has carried it to the other
// auth server first). A test that acts on the change at once — `gate ssh` right after a lock — races
// that stream, and loses when the machine is busy. So the harnesses start their processes with
// --debug, each cache (and each auth server's lock view) logs every change it applies, and tests
// wait for that line from every process concerned before relying on the change. Imports neither src-main nor
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

/** The processes of a topology by what they run, named by their log labels. */
export interface TopologyLabels {
  proxies: readonly string[];
  nodes: readonly string[];
  auths: readonly string[];
}

/** One log line that shows a process has applied a change. */
export interface ExpectedLine {
  label: string;
  line: RegExp;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A field value as src-shared/logger.ts writes it in a text line. */
const textValue = (v: string) => escapeRegExp(/[\s"=]/.test(v) ? JSON.stringify(v) : v);

/** `[label] <time> DEBUG [component] message fields` as a whole line. */
function debugLine(label: string, component: string, message: string, fields: string): RegExp {
  return new RegExp(`^\\[${escapeRegExp(label)}\\] \\S+ DEBUG +\\[${component}\\] ${message} ${fields}$`, 'm');
}

/** The line a service's copy (resource-cache.ts) logs once it applied `change`. */
export function cacheAppliedLine(label: string, change: CacheChange): RegExp {
  const fields = `kind=${textValue(change.kind)} name=${textValue(change.name)} type=${change.type}`;
  return debugLine(label, 'cache', 'resource cache applied', fields);
}

/** The line a LockWatcher (auth's own, fed by its storage's change feed) logs once its view has the change. */
export function lockViewLine(label: string, name: string, type: CacheChange['type']): RegExp {
  return debugLine(label, 'locks', 'lock view applied', `name=${textValue(name)} type=${type}`);
}

/**
 * Who must have applied `change` before a test relies on it: each proxy and node whose copy keeps
 * its kind, and for a lock also each auth server's lock view (auth refuses logins and API calls
 * from it; on the ha topology the auth server that did not store the lock hears of it through
 * PostgreSQL's change feed).
 */
export function expectedLines(change: CacheChange, topology: TopologyLabels): ExpectedLine[] {
  const holders = PROXY_ONLY_KINDS.has(change.kind) ? topology.proxies : [...topology.proxies, ...topology.nodes];
  const lines = holders.map((label) => ({ label, line: cacheAppliedLine(label, change) }));
  if (change.kind !== 'lock') return lines;
  return [...lines, ...topology.auths.map((label) => ({ label, line: lockViewLine(label, change.name, change.type) }))];
}

/**
 * Resolves once each process of `topology` concerned has logged applying `change` in the log
 * after offset `from` (taken before the write); fails naming the processes that had not.
 */
export async function awaitApplied(
  logs: () => string,
  topology: TopologyLabels,
  change: CacheChange,
  from: number,
  timeoutMs = CACHE_APPLY_TIMEOUT_MS,
): Promise<void> {
  const expected = expectedLines(change, topology);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const since = logs().slice(from);
    const missing = expected.filter(({ line }) => !line.test(since)).map(({ label }) => label);
    if (missing.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${missing.join(', ')} did not apply ${change.type} ${change.kind}/${change.name} within ${timeoutMs} ms ` +
          `(no "applied" debug line); the log since the change:\n${since}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
