// Account lockout after repeated failed logins, the way Teleport does it: after
// `max_attempts` failures within `duration`, the user is locked for `duration` by an ordinary
// lock resource (kind lock, target user), so admins see it in `gatectl get locks` with its reason
// and lift it with `gatectl rm lock/NAME`. Failures are counted in storage, so neither a daemon
// restart nor a second auth server resets the count. The per-address throttle in the auth server
// stays; this is the per-account defence that a botnet of addresses cannot spread around.
//
// Unknown user names are counted too (under the hash of the name) and get the same "locked"
// answer after the same number of failures, without a lock resource (there is nobody to lock):
// otherwise the lockout itself would tell which names exist.
import { createHash, randomUUID } from 'node:crypto';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import { discardAudit, type AuditEmitter } from '../audit/audit-events.ts';
import { LockService, lockStore } from '../locks/lock-service.ts';
import type { Logger } from '../log/logger.ts';
import { LOCK_KIND } from '../resources/lock.ts';
import type { Backend, Item } from '../storage/backend.ts';

export interface LockoutSettings {
  /** Failed attempts within `durationMs` that lock the user (config `auth.lockout.max_attempts`). */
  maxAttempts: number;
  /** How long the lock lasts, and the window failures are counted in (`auth.lockout.duration`). */
  durationMs: number;
}

/** Teleport's defaults are 5 attempts / 20 minutes; the issue asks for 30 minutes. */
export const DEFAULT_LOCKOUT: LockoutSettings = { maxAttempts: 5, durationMs: 30 * 60_000 };
/** The lock's message, as Teleport words it. */
export const LOCKOUT_MESSAGE = 'user has exceeded maximum failed login attempts';
/** created_by of lockout locks: the system, not an admin. */
export const LOCKOUT_CREATED_BY = 'system:login-lockout';
/** The label that tells a lockout lock from an admin's lock on the same user. */
export const LOCKOUT_LABEL = 'gatehouse/lockout';
const FAILURES_PREFIX = '/login_failures/';
// Concurrent failures for one user meet in a compare-and-swap; a few rounds always settle them.
const MAX_CAS_ROUNDS = 16;

/** A lockout in force: until when, and the lock that holds it (absent for unknown names). */
export interface Lockout {
  until: Date;
  lock?: string;
}

interface FailureRecord {
  count: number;
  /** When the counting window started (RFC 3339). */
  since: string;
  /** Set once the count reached the limit (RFC 3339). */
  locked_until?: string;
}

export interface LoginLockoutDeps {
  backend: Backend;
  settings: LockoutSettings;
  log: Logger;
  audit?: AuditEmitter;
  now?: () => number;
}

export class LoginLockout {
  readonly settings: LockoutSettings;
  readonly #backend: Backend;
  readonly #locks: LockService;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(deps: LoginLockoutDeps) {
    checkLockoutSettings(deps.settings);
    this.settings = deps.settings;
    this.#backend = deps.backend;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    // Only user locks are made here, so the device lookup and device trust mode never matter.
    this.#locks = new LockService({
      store: lockStore(deps.backend),
      devices: { find: async () => undefined },
      clusterDeviceTrustMode: () => 'off',
      log: deps.log,
      audit: deps.audit ?? discardAudit,
      now: () => new Date(this.#now()),
    });
  }

  /** The lockout in force for this user name, if any (a lockout lock, or the stored count). */
  async lockedOut(user: string): Promise<Lockout | undefined> {
    return (await this.standing(user)).lockout;
  }

  /**
   * The lockout in force, and whether failed attempts are counted for this name: a login that
   * then succeeds needs reset() only when they are, so the common login (no failures) costs no
   * write. On PostgreSQL every write is a round trip through the cluster-wide revision lock.
   */
  async standing(user: string): Promise<{ lockout?: Lockout; failuresCounted: boolean }> {
    const now = this.#now();
    const locks = await this.#locks.store.list({ labels: { [LOCKOUT_LABEL]: 'failed-logins' } });
    const lock = locks.find(
      (l) => l.spec.target.user === user && (l.spec.expires === undefined || Date.parse(l.spec.expires) > now),
    );
    if (lock) {
      const until = lock.spec.expires ? new Date(lock.spec.expires) : new Date(8.64e15);
      return { lockout: { until, lock: lock.metadata.name }, failuresCounted: true };
    }
    const record = await this.#read(user);
    const until = record?.value.locked_until ? Date.parse(record.value.locked_until) : NaN;
    return until > now
      ? { lockout: { until: new Date(until) }, failuresCounted: true }
      : { failuresCounted: record !== undefined };
  }

  /**
   * Counts one failed attempt. Returns the lockout when this failure reached the limit (only
   * the caller that made that step gets it, so concurrent failures make one lock, not several).
   */
  async recordFailure(user: string, userExists: boolean, shownUser: string): Promise<Lockout | undefined> {
    const now = this.#now();
    const { maxAttempts, durationMs } = this.settings;
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const current = await this.#read(user);
      const fresh = !current || Date.parse(current.value.since) + durationMs <= now;
      if (current?.value.locked_until && Date.parse(current.value.locked_until) > now) return undefined;
      const count = fresh ? 1 : current.value.count + 1;
      const since = fresh ? new Date(now).toISOString() : current.value.since;
      const next: FailureRecord = { count, since };
      const reached = count >= maxAttempts;
      if (reached) next.locked_until = new Date(now + durationMs).toISOString();
      const expires = new Date(reached ? now + durationMs : Date.parse(since) + durationMs);
      const item = { key: this.#key(user), value: JSON.stringify(next), expires };
      try {
        if (current) await this.#backend.compareAndSwap({ key: item.key, revision: current.revision }, item);
        else await this.#backend.create(item);
      } catch (e) {
        if (isGatehouseError(e) && (e.code === ErrorCode.CONFLICT || e.code === ErrorCode.ALREADY_EXISTS)) continue;
        throw e;
      }
      if (!reached) return undefined;
      const until = new Date(now + durationMs);
      if (!userExists) return { until };
      return { until, lock: await this.#lock(user, shownUser, until) };
    }
    throw new GatehouseError(
      ErrorCode.STORAGE,
      `failed-login count for ${shownUser} kept changing under ${MAX_CAS_ROUNDS} attempts to update it`,
    );
  }

  /** After a successful login the count starts again. */
  async reset(user: string): Promise<void> {
    await this.#backend.delete(this.#key(user)).catch((e: unknown) => {
      if (!(isGatehouseError(e) && e.code === ErrorCode.NOT_FOUND)) throw e;
    });
  }

  async #lock(user: string, shownUser: string, until: Date): Promise<string> {
    const lock = await this.#locks.create({
      kind: LOCK_KIND,
      version: 'v2',
      metadata: { name: randomUUID(), labels: { [LOCKOUT_LABEL]: 'failed-logins' } },
      spec: {
        target: { user },
        message: `${LOCKOUT_MESSAGE} (${this.settings.maxAttempts})`,
        expires: until.toISOString(),
        created_by: LOCKOUT_CREATED_BY,
        created_at: new Date(this.#now()).toISOString(),
      },
    });
    // The lock now holds the lockout: an admin who lifts it gives the user a fresh count.
    await this.reset(user);
    this.#log.warn('user locked after failed logins', {
      user: shownUser,
      lock: lock.metadata.name,
      until: until.toISOString(),
      attempts: this.settings.maxAttempts,
    });
    return lock.metadata.name;
  }

  async #read(user: string): Promise<{ revision: number; value: FailureRecord } | undefined> {
    const item: Item | undefined = await this.#backend.get(this.#key(user));
    return item ? { revision: item.revision, value: JSON.parse(item.value) as FailureRecord } : undefined;
  }

  // Hashed: names come from unauthenticated clients and may be any length or character.
  #key(user: string): string {
    return FAILURES_PREFIX + createHash('sha256').update(user).digest('hex');
  }
}

/** Limits of the config fields, checked again here for callers that build settings in code. */
export const MAX_LOCKOUT_ATTEMPTS = 100;

export function checkLockoutSettings(s: LockoutSettings): void {
  if (!Number.isInteger(s.maxAttempts) || s.maxAttempts < 1 || s.maxAttempts > MAX_LOCKOUT_ATTEMPTS) {
    throw new GatehouseError(
      ErrorCode.CONFIG,
      `auth.lockout.max_attempts must be 1..${MAX_LOCKOUT_ATTEMPTS}, got ${s.maxAttempts}`,
    );
  }
  if (!Number.isFinite(s.durationMs) || s.durationMs < 1000) {
    throw new GatehouseError(ErrorCode.CONFIG, `auth.lockout.duration must be at least 1s, got ${s.durationMs} ms`);
  }
}
