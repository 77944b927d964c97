// Device challenges issued inside the login exchange (LoginResponse.device_challenge), so device
// authentication costs one call after the login instead of a second TLS connection and a
// two-round-trip stream. Each challenge is a fresh 32-byte nonce bound to the login it came with
// (user, the X.509 certificate issued, the credential the client named), lives as long as the
// stream ceremony waits for its quote, and is taken out on its first use whatever the outcome:
// single use, like the nonce that lives only in a stream's memory.
//
// Kept in the auth process's memory, not in storage: a challenge outlives no restart (the client
// then falls back to logging in again), and the login and its answer reach the same auth server
// through one proxy connection. Bounded: an unauthenticated client cannot grow it past
// LOGIN_CHALLENGES_MAX (logins are rate limited before a challenge is issued at all).
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { PreparedAnswer } from './authentication.ts';
import { DEFAULT_STEP_TIMEOUT_MS, newNonce, QUOTE_PCRS } from './ceremony-stream.ts';

/** As long as the stream ceremony waits for the quote after sending its nonce. */
export const LOGIN_CHALLENGE_TTL_MS = DEFAULT_STEP_TIMEOUT_MS;
/** Outstanding challenges at most; the oldest is dropped first (its login stays, untrusted). */
export const LOGIN_CHALLENGES_MAX = 10_000;

/** What a challenge is bound to: the answer must come with exactly this login. */
export interface LoginChallengeBinding {
  user: string;
  /** DER of the X.509 certificate the login issued. */
  certDer: Buffer;
  /** The credential id the login request named. */
  credentialId: string;
  /**
   * Work done while the client quotes (login-challenge-authentication.ts): released only after
   * every check of the answer passed, dropped with the challenge.
   */
  prepared?: Promise<PreparedAnswer | undefined>;
}

export interface IssuedLoginChallenge {
  nonce: Buffer;
  pcrs: number[];
  expiresAt: Date;
}

interface Pending {
  binding: LoginChallengeBinding;
  expiresAtMs: number;
}

function refused(message: string, reason: string): GatehouseError {
  return new GatehouseError(ErrorCode.DEVICE_ATTESTATION_FAILED, message, { reason });
}

export class LoginDeviceChallenges {
  // Map keeps insertion order, and every entry lives equally long: the first entry is the oldest.
  readonly #pending = new Map<string, Pending>();
  readonly #now: () => Date;
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(opts: { now?: () => Date; ttlMs?: number; max?: number } = {}) {
    this.#now = opts.now ?? (() => new Date());
    this.#ttlMs = opts.ttlMs ?? LOGIN_CHALLENGE_TTL_MS;
    this.#max = opts.max ?? LOGIN_CHALLENGES_MAX;
    if (!(this.#ttlMs > 0) || !(this.#max > 0))
      throw new RangeError('login challenges need a positive lifetime and maximum');
  }

  get size(): number {
    return this.#pending.size;
  }

  issue(binding: LoginChallengeBinding): IssuedLoginChallenge {
    const now = this.#now().getTime();
    this.#dropExpired(now);
    while (this.#pending.size >= this.#max) this.#pending.delete(this.#pending.keys().next().value!);
    const nonce = newNonce();
    const expiresAtMs = now + this.#ttlMs;
    this.#pending.set(nonce.toString('hex'), { binding, expiresAtMs });
    return { nonce, pcrs: [...QUOTE_PCRS], expiresAt: new Date(expiresAtMs) };
  }

  /**
   * The binding of the challenge with this nonce, which is spent by this call whatever follows.
   * Unknown (never issued, already answered, dropped) or expired: DEVICE_ATTESTATION_FAILED.
   */
  take(nonce: Uint8Array): LoginChallengeBinding {
    const key = Buffer.from(nonce).toString('hex');
    const pending = this.#pending.get(key);
    this.#pending.delete(key);
    if (!pending) {
      throw refused(
        'this device challenge is unknown to the cluster (already answered, expired or never issued); log in again',
        'challenge_unknown',
      );
    }
    if (this.#now().getTime() >= pending.expiresAtMs) {
      throw refused(
        `this device challenge expired (challenges live ${Math.round(this.#ttlMs / 1000)} s); log in again`,
        'challenge_expired',
      );
    }
    return pending.binding;
  }

  #dropExpired(now: number): void {
    for (const [key, p] of this.#pending) {
      if (p.expiresAtMs > now) return;
      this.#pending.delete(key);
    }
  }
}
