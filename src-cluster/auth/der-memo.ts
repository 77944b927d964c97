// Parsed certificate contents, remembered per certificate. Parsing a certificate's subject and
// Gatehouse extensions with @peculiar/x509 costs milliseconds, and the proxy and the db service
// did it for the same route certificate on every database connection (the proxy twice). The
// result depends on the DER bytes alone, so a memo returns exactly what a parse would; the
// checks that depend on time or trust (issuer signature, validity) are NOT memoized and stay
// with the callers, run on every connection.

/** Certificates remembered; past it the least recently used is parsed again on next use. */
export const DEFAULT_MAX_MEMO_CERTS = 256;

export class DerMemo<T> {
  readonly #parsed = new Map<string, T>();

  constructor(
    private readonly parse: (der: Buffer) => T,
    private readonly maxEntries = DEFAULT_MAX_MEMO_CERTS,
  ) {}

  /** What `parse(der)` returns, as a copy the caller may change without affecting later calls. */
  get(der: Buffer): T {
    const id = der.toString('base64');
    let value = this.#parsed.get(id);
    if (value !== undefined) this.#parsed.delete(id);
    else {
      value = this.parse(der);
      if (this.#parsed.size >= this.maxEntries) this.#parsed.delete(this.#parsed.keys().next().value!);
    }
    this.#parsed.set(id, value);
    return structuredClone(value);
  }

  get size(): number {
    return this.#parsed.size;
  }
}
