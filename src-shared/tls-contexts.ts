// SecureContexts reused across connections that present the same certificate and trust the
// same CAs. Building one parses the PEMs and loads the key and CA store (~2 ms a connection);
// a gateway, the proxy's dial to a db service and the db service's dial to a database open many
// connections with the same few. The context holds only what the PEMs say, so reusing it
// changes nothing that is checked: each connection still verifies its peer (rejectUnauthorized
// and the server-name check are per connection options, not part of the context).
import { createHash } from 'node:crypto';
import * as tls from 'node:tls';
import { TLS_CLIENT_SETTINGS } from './tls-settings.ts';

/** Distinct contexts kept; past it the least recently used is dropped (rebuilt on next use). */
export const DEFAULT_MAX_TLS_CONTEXTS = 32;

export interface TlsContextInput {
  ca: readonly string[];
  /** The certificate (with its chain) and key this side presents, if any. */
  cert?: string;
  key?: string;
  minVersion?: tls.SecureVersion;
}

export class TlsContextCache {
  readonly #contexts = new Map<string, tls.SecureContext>();

  constructor(private readonly maxContexts = DEFAULT_MAX_TLS_CONTEXTS) {}

  /** The context for these PEMs: the one built before when they are the same, else a new one. */
  get(input: TlsContextInput): tls.SecureContext {
    const id = contextId(input);
    const known = this.#contexts.get(id);
    if (known) {
      // Most recently used goes last, so the first entry is the one to drop.
      this.#contexts.delete(id);
      this.#contexts.set(id, known);
      return known;
    }
    const context = tls.createSecureContext({
      ca: [...input.ca],
      ...(input.cert !== undefined ? { cert: input.cert } : {}),
      ...(input.key !== undefined ? { key: input.key } : {}),
      // A context passed as `secureContext` replaces the connection's own cipher options, so the
      // cluster's TLS settings have to be in it (they are the same for every context: not in the id).
      ...TLS_CLIENT_SETTINGS,
      minVersion: input.minVersion ?? TLS_CLIENT_SETTINGS.minVersion,
    });
    if (this.#contexts.size >= this.maxContexts) this.#contexts.delete(this.#contexts.keys().next().value!);
    this.#contexts.set(id, context);
    return context;
  }

  get size(): number {
    return this.#contexts.size;
  }
}

/** A digest of every input, so the map does not hold key material as its keys. */
function contextId(input: TlsContextInput): string {
  const h = createHash('sha256');
  for (const part of [
    input.minVersion ?? TLS_CLIENT_SETTINGS.minVersion,
    input.cert ?? '',
    input.key ?? '',
    ...input.ca,
  ]) {
    h.update(String(part.length)).update(':').update(part);
  }
  return h.digest('base64');
}
