// Keeps one TPM session (connection + loaded attestation key) open across device ceremonies in a
// long-running process (the desktop app, the browser host). Opening the TPM and loading the AK
// recreates the EK under the endorsement hierarchy (an RSA primary: tens of ms of TPM work, and
// on swtpm the same CPU the password check needs); with the session kept, a login's TPM work is
// the quote and PCR read alone. The one-shot `gate` CLI does not use this: its session ends
// with the process, so each `gate login` opens and loads again (overlapped with the password
// check, see DeviceTrust.prepare).
//
// Lifetime, explicitly: a session is closed after `idleMs` with no lease out, at close(), after
// any TPM call in it failed (the next lease opens a new one: a TPM reset, a lost connection or a
// flushed handle must not stick), and when the AK the device store holds is no longer the one
// loaded (an enrollment with a new AK, another process recreating it).
import type { CeremonyTpm } from '../device/ceremony/stream-steps.ts';

export type TpmSession = CeremonyTpm & { close(): Promise<void> };

export interface TpmSessionCacheOptions {
  /** Opens a new session; `onNotice` is told about e.g. a recreated AK. */
  open(onNotice: (message: string) => void): Promise<TpmSession>;
  /** The public part of the AK the device store holds now, or null when there is none. */
  storedAkPublic(): Buffer | null;
  /** Close an unused session after this long (ms, > 0). */
  idleMs: number;
}

interface Entry {
  tpm: Promise<TpmSession>;
  leases: number;
  /** The AK public this session loaded (known after its first attestationKey()). */
  akPublic?: Buffer;
  /** Not handed out again: failed, stale or the cache closed; really closed at its last release. */
  retired: boolean;
  closed: boolean;
}

/** Longest idle time accepted: a day (a longer timer would only hide a forgotten close()). */
export const MAX_TPM_SESSION_IDLE_MS = 24 * 60 * 60 * 1000;

export class TpmSessionCache {
  readonly #opts: TpmSessionCacheOptions;
  #current: Entry | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #notice: ((message: string) => void) | undefined;
  #disposed = false;

  constructor(opts: TpmSessionCacheOptions) {
    if (!(opts.idleMs > 0 && opts.idleMs <= MAX_TPM_SESSION_IDLE_MS)) {
      throw new RangeError(`TPM session idle time must be 1..${MAX_TPM_SESSION_IDLE_MS} ms, not ${opts.idleMs}`);
    }
    this.#opts = opts;
  }

  /** Whether a session is open and would be handed out by the next lease (tests, diagnostics). */
  get warm(): boolean {
    return !!this.#current && !this.#current.retired;
  }

  /**
   * The kept session, or a newly opened one; close() the lease when done (it does not close the
   * TPM). After the cache was closed, every lease is a session of its own, closed with the lease.
   */
  async lease(onNotice?: (message: string) => void): Promise<TpmSession> {
    this.#notice = onNotice;
    if (this.#disposed) return this.#opts.open((m) => onNotice?.(m));
    const current = this.#current;
    if (current && !current.retired && current.akPublic && !this.#sameAsStored(current.akPublic)) {
      void this.#retire(current); // closes it now or at its last lease's release
    }
    if (!this.#current || this.#current.retired) {
      const entry: Entry = {
        tpm: this.#opts.open((m) => this.#notice?.(m)),
        leases: 0,
        retired: false,
        closed: false,
      };
      this.#current = entry;
      void entry.tpm.catch(() => this.#retire(entry));
    }
    const entry = this.#current;
    entry.leases++;
    this.#stopIdleTimer();
    let tpm: TpmSession;
    try {
      tpm = await entry.tpm;
    } catch (e) {
      entry.leases--;
      throw e;
    }
    return this.#wrap(entry, tpm);
  }

  /** Closes the kept session (after its leases end); later leases open and close their own. */
  async close(): Promise<void> {
    this.#disposed = true;
    this.#stopIdleTimer();
    const entry = this.#current;
    this.#current = undefined;
    if (entry) await this.#retire(entry);
  }

  #sameAsStored(akPublic: Buffer): boolean {
    const stored = this.#opts.storedAkPublic();
    return !!stored && stored.equals(akPublic);
  }

  /** No further leases of `entry`; closed now when nobody holds it, else at its last release. */
  async #retire(entry: Entry): Promise<void> {
    entry.retired = true;
    if (this.#current === entry) this.#current = undefined;
    if (entry.leases === 0) await this.#closeEntry(entry);
  }

  async #closeEntry(entry: Entry): Promise<void> {
    if (entry.closed) return;
    entry.closed = true;
    try {
      await (await entry.tpm).close();
    } catch {
      // it never opened, or the connection is gone already: nothing left to release
    }
  }

  #release(entry: Entry): Promise<void> {
    entry.leases--;
    if (entry.leases > 0) return Promise.resolve();
    if (entry.retired) return this.#closeEntry(entry);
    this.#stopIdleTimer();
    this.#idleTimer = setTimeout(() => void this.#retire(entry), this.#opts.idleMs);
    this.#idleTimer.unref(); // a kept session never holds the process open
    return Promise.resolve();
  }

  #stopIdleTimer(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** The session as one lease: a failed call retires the session, close() releases the lease once. */
  #wrap(entry: Entry, tpm: TpmSession): TpmSession {
    let released = false;
    const guarded = <T>(call: () => Promise<T>): Promise<T> =>
      call().catch((e: unknown) => {
        void this.#retire(entry);
        throw e;
      });
    return {
      ekCertificate: () => guarded(() => tpm.ekCertificate()),
      ekPublic: () => guarded(() => tpm.ekPublic()),
      attestationKey: () =>
        guarded(async () => {
          const ak = await tpm.attestationKey();
          entry.akPublic = ak.public;
          return ak;
        }),
      activateCredential: (blob, secret) => guarded(() => tpm.activateCredential(blob, secret)),
      quote: (nonce, pcrs) => guarded(() => tpm.quote(nonce, pcrs)),
      readPcrs: (pcrs) => guarded(() => tpm.readPcrs(pcrs)),
      close: () => {
        if (released) return Promise.resolve();
        released = true;
        return this.#release(entry);
      },
    };
  }
}
