// Join tokens: the one-time (or TTL-bound) proof a new service presents to join the cluster.
// Only the SHA-256 of the secret is stored (under that hash, so a join needs one read); the
// public id is what admins list and revoke. Spending is a compare-and-swap on the record, so two
// joins racing with one single-use token cannot both win.
import { createHash, randomBytes } from 'node:crypto';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import type { Backend, Item } from '../storage/backend.ts';
import { SERVICE_ROLES, type ServiceRole } from '../auth/host-identity.ts';

export const DEFAULT_JOIN_TOKEN_TTL_MS = 30 * 60_000;
/** Longer-lived tokens are standing credentials; a week is the most an admin may ask for. */
export const MAX_JOIN_TOKEN_TTL_MS = 7 * 24 * 3600_000;
/** Live tokens at once: each is a row an unauthenticated join can look up, and `ls` prints all. */
export const MAX_LIVE_JOIN_TOKENS = 1000;
/**
 * Spent and expired records stay readable this long after expiry, so a late join hears "expired"
 * or "already used" instead of "unknown"; then storage drops them.
 */
const REFUSAL_MEMORY_MS = 24 * 3600_000;
const SECRET_BYTES = 32;
const PREFIX = '/join_tokens/';
/** Concurrent joins with a multi-use token each retry their compare-and-swap at most this often. */
const MAX_SPEND_ATTEMPTS = 8;

export interface JoinTokenRecord {
  id: string;
  roles: ServiceRole[];
  /** RFC 3339. */
  expires: string;
  single_use: boolean;
  created_by: string;
  created: string;
  uses: number;
}

/** Why a join was refused; stable words that audit events and tests match on. */
export type JoinRefusal = 'unknown_token' | 'expired_token' | 'token_already_used' | 'role_not_allowed';

export class JoinRefusedError extends GatehouseError {
  constructor(
    readonly reason: JoinRefusal,
    message: string,
    readonly tokenId?: string,
  ) {
    super(ErrorCode.BAD_CREDENTIALS, message, { reason, ...(tokenId ? { token_id: tokenId } : {}) });
  }
}

export function joinTokenHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function parseServiceRoles(roles: readonly string[]): ServiceRole[] {
  const out = [...new Set(roles.map((r) => r.trim()).filter(Boolean))];
  if (out.length === 0) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `a join token needs at least one role (${SERVICE_ROLES.join(', ')})`,
    );
  }
  for (const r of out) {
    if (!(SERVICE_ROLES as readonly string[]).includes(r)) {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `unknown service role "${r}": expected one of ${SERVICE_ROLES.join(', ')}`,
      );
    }
  }
  return out as ServiceRole[];
}

export interface CreateJoinTokenInput {
  roles: readonly string[];
  /** 0 or absent: DEFAULT_JOIN_TOKEN_TTL_MS. */
  ttlMs?: number;
  multiUse?: boolean;
  createdBy: string;
}

export class JoinTokenStore {
  constructor(
    private readonly backend: Backend,
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: CreateJoinTokenInput): Promise<{ token: string; record: JoinTokenRecord }> {
    const roles = parseServiceRoles(input.roles);
    const ttl = input.ttlMs || DEFAULT_JOIN_TOKEN_TTL_MS;
    if (!Number.isFinite(ttl) || ttl < 1000 || ttl > MAX_JOIN_TOKEN_TTL_MS) {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `join token TTL must be between 1 s and ${MAX_JOIN_TOKEN_TTL_MS / 3600_000} h`,
      );
    }
    const live = (await this.list()).length;
    if (live >= MAX_LIVE_JOIN_TOKENS) {
      throw new GatehouseError(
        ErrorCode.RATE_LIMITED,
        `there are already ${live} join tokens (at most ${MAX_LIVE_JOIN_TOKENS}); remove unused ones with "gatectl tokens rm"`,
      );
    }
    const token = randomBytes(SECRET_BYTES).toString('base64url');
    const now = this.now();
    const record: JoinTokenRecord = {
      id: randomBytes(8).toString('hex'),
      roles,
      expires: new Date(now + ttl).toISOString(),
      single_use: !input.multiUse,
      created_by: input.createdBy,
      created: new Date(now).toISOString(),
      uses: 0,
    };
    await this.backend.create(this.itemFor(joinTokenHash(token), record));
    return { token, record };
  }

  /** Tokens that can still be used (not expired, not spent), oldest first. */
  async list(): Promise<JoinTokenRecord[]> {
    const now = this.now();
    return (await this.backend.listPrefix(PREFIX))
      .map((item) => decode(item))
      .filter((r) => Date.parse(r.expires) > now && !(r.single_use && r.uses > 0))
      .sort((a, b) => a.created.localeCompare(b.created));
  }

  /** NOT_FOUND when no token (live, spent or expired) has this id. */
  async delete(id: string): Promise<void> {
    const items = await this.backend.listPrefix(PREFIX);
    const item = items.find((i) => decode(i).id === id);
    if (!item) throw new GatehouseError(ErrorCode.NOT_FOUND, `no join token with id "${id}"`);
    await this.backend.delete(item.key);
  }

  /**
   * Checks the token for `role` and counts one use, atomically: the single-use token's first
   * spender wins and every other concurrent caller gets token_already_used.
   */
  async spend(secret: string, role: string): Promise<JoinTokenRecord> {
    const key = PREFIX + joinTokenHash(secret);
    for (let attempt = 0; attempt < MAX_SPEND_ATTEMPTS; attempt++) {
      const item = await this.backend.get(key);
      if (!item) throw new JoinRefusedError('unknown_token', 'join token is unknown (never issued or removed)');
      const record = decode(item);
      refuseUnusable(record, role, this.now());
      const next = { ...record, uses: record.uses + 1 };
      try {
        await this.backend.compareAndSwap(
          { key, revision: item.revision },
          this.itemFor(key.slice(PREFIX.length), next),
        );
        return next;
      } catch (e) {
        // Someone else spent or changed it first: read again and decide on what is there now.
        if (isGatehouseError(e) && e.code === ErrorCode.CONFLICT) continue;
        throw e;
      }
    }
    throw new GatehouseError(ErrorCode.CONFLICT, 'join token is in use by too many concurrent joins; retry');
  }

  private itemFor(hash: string, record: JoinTokenRecord) {
    return {
      key: PREFIX + hash,
      value: JSON.stringify(record),
      expires: new Date(Date.parse(record.expires) + REFUSAL_MEMORY_MS),
    };
  }
}

function refuseUnusable(record: JoinTokenRecord, role: string, now: number): void {
  if (Date.parse(record.expires) <= now) {
    throw new JoinRefusedError('expired_token', `join token ${record.id} expired at ${record.expires}`, record.id);
  }
  if (record.single_use && record.uses > 0) {
    throw new JoinRefusedError('token_already_used', `join token ${record.id} was already used`, record.id);
  }
  if (!(record.roles as string[]).includes(role)) {
    throw new JoinRefusedError(
      'role_not_allowed',
      `join token ${record.id} does not allow role "${role}" (it allows ${record.roles.join(', ')})`,
      record.id,
    );
  }
}

function decode(item: Item): JoinTokenRecord {
  return JSON.parse(item.value) as JoinTokenRecord;
}
