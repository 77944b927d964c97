// The JWTs the app service puts on proxied requests (header Gatehouse-Jwt-Assertion), cached per
// (user certificate, app): a browser opens about six connections per app and each makes many
// requests, and signing is an RPC to auth (ClusterService.SignAppToken). A token is reused until
// 80% of its life, so an app never sees one about to expire; concurrent misses for the same key
// share one call, and the cache is bounded (least recently used dropped first).
import { decodeJwt } from 'jose';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

/** Tokens kept; a busy service with more live (certificate, app) pairs signs the rest again. */
export const DEFAULT_MAX_CACHED_TOKENS = 10_000;
/** The share of a token's life it is handed out for; the rest is margin for clock skew and transit. */
export const TOKEN_REUSE_FRACTION = 0.8;

/** ClusterService.SignAppToken as the composition calls it: a compact JWS. */
export type SignAppToken = (userCertPem: string, app: string) => Promise<string>;

export interface CachedAppToken {
  token: string;
  /** Epoch ms after which a new token is asked for. */
  refreshAt: number;
}

/** When to stop handing `token` out: iat + 80% of (exp - iat), or now when it does not say. */
export function refreshTimeOf(token: string, now: number): number {
  let claims: { iat?: unknown; exp?: unknown };
  try {
    claims = decodeJwt(token);
  } catch (e) {
    throw new GatehouseError(
      ErrorCode.INTERNAL,
      `auth signed an app token that does not parse: ${(e as Error).message}`,
    );
  }
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  if (exp === undefined) return now;
  const iat = typeof claims.iat === 'number' ? claims.iat * 1000 : now;
  return iat + (exp - iat) * TOKEN_REUSE_FRACTION;
}

export class AppTokenCache {
  readonly #tokens = new Map<string, CachedAppToken>();
  readonly #inFlight = new Map<string, Promise<CachedAppToken>>();

  constructor(
    private readonly sign: SignAppToken,
    private readonly maxEntries = DEFAULT_MAX_CACHED_TOKENS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A token for `app` and the certificate `userCertPem`; `certKey` identifies the certificate
   * (its serial or fingerprint) so the key stays small.
   */
  get(certKey: string, userCertPem: string, app: string): Promise<CachedAppToken> {
    const key = `${certKey}\n${app}`;
    const cached = this.#tokens.get(key);
    if (cached && this.now() < cached.refreshAt) {
      // Re-inserted: Map order is recency, so the first key is the least recently used.
      this.#tokens.delete(key);
      this.#tokens.set(key, cached);
      return Promise.resolve(cached);
    }
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const call = this.#fetch(key, userCertPem, app).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, call);
    return call;
  }

  get size(): number {
    return this.#tokens.size;
  }

  async #fetch(key: string, userCertPem: string, app: string): Promise<CachedAppToken> {
    const token = await this.sign(userCertPem, app);
    const entry: CachedAppToken = { token, refreshAt: refreshTimeOf(token, this.now()) };
    this.#tokens.delete(key);
    if (this.#tokens.size >= this.maxEntries) this.#tokens.delete(this.#tokens.keys().next().value!);
    this.#tokens.set(key, entry);
    return entry;
  }
}
