// Test-only: what the storage conformance suites share. A harness opens backends of one kind on
// a fresh store (a temp SQLite file, a new PostgreSQL database); several instances opened on the
// same store behave like several processes or auth servers sharing it.
import type { TestContext } from 'node:test';
import { GatehouseError } from '../../../src-shared/errors.ts';
import type { Backend, WatchEvent, Watcher } from '../backend.ts';

/** Options every backend takes under the same names. */
export interface ConformanceOptions {
  now?: () => number;
  sweepIntervalMs?: number;
  pollIntervalMs?: number;
  eventRetentionMs?: number;
  maxBufferedEvents?: number;
}

export type ConformanceBackend = Backend & { sweepExpired(): Promise<number> };

export interface BackendStore {
  /** Opens one more instance on this store; closed by the test's t.after. */
  open(options?: ConformanceOptions): Promise<ConformanceBackend>;
}

export interface BackendHarness {
  /** "SQLite", "PostgreSQL": prefixes every test name. */
  name: string;
  /** A new, empty store for one test. */
  store(t: TestContext): Promise<BackendStore>;
}

/** One instance on a fresh store: the common case. */
export async function openFresh(
  h: BackendHarness,
  t: TestContext,
  options?: ConformanceOptions,
): Promise<ConformanceBackend> {
  return (await h.store(t)).open(options);
}

/**
 * Reads watch events one by one, failing clearly instead of hanging when one never comes.
 * `waitMs` is the default wait of next() and ended().
 */
export function reader(watcher: Watcher, waitMs = 3000) {
  const it = watcher[Symbol.asyncIterator]();
  return {
    async next(timeoutMs = waitMs): Promise<WatchEvent> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no watch event within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const r = await Promise.race([it.next(), timeout]);
        if (r.done) throw new Error('watcher ended');
        return r.value;
      } finally {
        clearTimeout(timer);
      }
    },
    async ended(timeoutMs = waitMs): Promise<boolean> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((res) => (timer = setTimeout(res, timeoutMs, 'timeout')));
      const r = await Promise.race([it.next(), timeout]);
      clearTimeout(timer);
      return r !== 'timeout' && r.done === true;
    },
  };
}

export function summary(e: WatchEvent): string {
  return e.type === 'init' ? 'init' : `${e.type} ${e.item.key}=${e.item.value}`;
}

export function code(c: string) {
  return (e: unknown) => e instanceof GatehouseError && e.code === c;
}
